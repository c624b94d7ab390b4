"""Write `bench/data/pii_cases.jsonl`, the labelled PII set, from hand-written templates.

The sentences are written for this project; only the identifiers in them are generated, so
that every gold span offset is exact and every card passes Luhn, every IBAN its mod-97
check and every phone number its numbering plan (a real customer's number always does).
Hard negatives (Luhn-failing card-like numbers, IBANs with a wrong check, order numbers,
dates, amounts...) are generated too and carry no span.

    .venv/bin/python -m bench.make_pii_cases --out bench/data/pii_cases.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import re
import string
from collections.abc import Callable
from pathlib import Path

import phonenumbers
from phonenumbers import PhoneNumberFormat

SLOT = re.compile(r"\{(\w+)\}")
HOLDOUT_EVERY = 3

FIRST = ["jane", "tom", "priya", "oliver", "amelia", "kwame", "sofia", "liam", "chen", "fatima"]
LAST = ["smith", "okafor", "patel", "jones", "nowak", "garcia", "obrien", "wright", "khan", "li"]
DOMAINS = ["gmail.com", "outlook.com", "hotmail.co.uk", "yahoo.com", "btinternet.com"]
SUBDOMAINS = ["mail.acme-logistics.co.uk", "staff.northwood.ac.uk", "eu.mailbox.org"]


def luhn_digit(payload: str) -> str:
    """The check digit that makes `payload + digit` pass Luhn."""
    total = 0
    for i, char in enumerate(reversed(payload)):
        n = int(char) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return str((10 - total % 10) % 10)


def card_digits(rng: random.Random, prefixes: list[str], length: int, valid: bool = True) -> str:
    prefix = rng.choice(prefixes)
    payload = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    check = luhn_digit(payload)
    if not valid:
        check = str((int(check) + rng.randint(1, 9)) % 10)
    return payload + check


def grouped(digits: str, sizes: list[int], sep: str) -> str:
    parts, at = [], 0
    for size in sizes:
        parts.append(digits[at : at + size])
        at += size
    return sep.join(part for part in parts if part)


def fours(digits: str, sep: str) -> str:
    return grouped(digits, [4] * 5, sep)


NETWORKS = {
    "visa": (["4"], 16),
    "visa13": (["4"], 13),
    "visa19": (["4"], 19),
    "mastercard": (["51", "52", "53", "54", "55"], 16),
    "mastercard2": ([str(p) for p in range(2221, 2721)], 16),
    "amex": (["34", "37"], 15),
    "discover": (["6011", "65"], 16),
    "diners": (["36"], 14),
    "jcb": ([str(p) for p in range(3528, 3590)], 16),
    "maestro": (["6759", "5018", "6304"], 18),
    "unionpay": (["62"], 19),
}


def card(rng: random.Random, network: str | None = None, style: str | None = None) -> str:
    network = network or rng.choice(["visa", "visa", "mastercard", "mastercard2", "discover"])
    prefixes, length = NETWORKS[network]
    digits = card_digits(rng, prefixes, length)
    if network == "amex":
        return grouped(digits, [4, 6, 5], rng.choice([" ", "-", ""]))
    if network == "diners":
        return grouped(digits, [4, 6, 4], rng.choice([" ", ""]))
    style = style or rng.choice(["space", "space", "dash", "plain"])
    return {"space": fours(digits, " "), "dash": fours(digits, "-"), "plain": digits}[style]


IBAN_BBAN = {
    "GB": "a4n14",
    "DE": "n18",
    "FR": "n10c11n2",
    "ES": "n20",
    "IT": "a1n10c12",
    "NL": "a4n10",
    "IE": "a4n14",
    "BE": "n12",
    "CH": "n5c12",
    "PL": "n24",
    "PT": "n21",
    "AT": "n16",
}


def iban_compact(rng: random.Random, country: str, valid: bool = True) -> str:
    alphabet = {"a": string.ascii_uppercase, "n": string.digits, "c": string.digits * 3 + "ABXZ"}
    bban = "".join(
        rng.choice(alphabet[kind])
        for kind, count in re.findall(r"([anc])(\d+)", IBAN_BBAN[country])
        for _ in range(int(count))
    )
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    check = 98 - int(numeric) % 97
    if not valid:
        check = 2 + (check - 2 + rng.randint(1, 96)) % 97
    return f"{country}{check:02d}{bban}"


def iban(rng: random.Random, country: str | None = None, spaced: bool | None = None) -> str:
    compact = iban_compact(rng, country or rng.choice(sorted(IBAN_BBAN)))
    spaced = rng.random() < 0.6 if spaced is None else spaced
    return grouped(compact, [4] * 9, " ") if spaced else compact


def phone_number(rng: random.Random, pattern: str, region: str) -> phonenumbers.PhoneNumber:
    """A number valid in its numbering plan, drawn by filling the X in `pattern`."""
    while True:
        raw = "".join(rng.choice(string.digits) if c == "X" else c for c in pattern)
        number = phonenumbers.parse(raw, region)
        if phonenumbers.is_valid_number(number):
            return number


def gb_mobile(rng: random.Random) -> str:
    number = phone_number(rng, rng.choice(["074XXXXXXXX", "075XXXXXXXX", "07XXXXXXXXX"]), "GB")
    national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    international = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    return rng.choice(
        [
            national,
            national.replace(" ", ""),
            international,
            phonenumbers.format_number(number, PhoneNumberFormat.E164),
            international.replace("+44 ", "+44 (0)"),
            international.replace("+", "00"),
        ]
    )


def gb_landline(rng: random.Random) -> str:
    pattern = rng.choice(
        ["0207XXXXXXX", "0208XXXXXXX", "0161XXXXXXX", "0113XXXXXXX", "0131XXXXXXX"]
    )
    number = phone_number(rng, pattern, "GB")
    national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    return rng.choice(
        [
            national,
            phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL),
            f"({national.split(' ', 1)[0]}) {national.split(' ', 1)[1]}",
        ]
    )


def us_phone(rng: random.Random) -> str:
    area = rng.choice(["212", "415", "312", "617", "206", "305", "512", "646", "713"])
    number = phone_number(rng, f"+1{area}{rng.randint(2, 9)}XXXXXX", "US")
    national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    digits = str(number.national_number)
    return rng.choice(
        [
            national,
            f"{digits[:3]}-{digits[3:6]}-{digits[6:]}",
            f"{digits[:3]}.{digits[3:6]}.{digits[6:]}",
            phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL),
            f"1-{digits[:3]}-{digits[3:6]}-{digits[6:]}",
            phonenumbers.format_number(number, PhoneNumberFormat.E164),
        ]
    )


def intl_phone(rng: random.Random) -> str:
    pattern, region = rng.choice(
        [
            ("+336XXXXXXXX", "FR"),
            ("+4915XXXXXXXXX", "DE"),
            ("+35387XXXXXXX", "IE"),
            ("+919XXXXXXXXX", "IN"),
            ("+614XXXXXXXX", "AU"),
            ("+346XXXXXXXX", "ES"),
            ("+316XXXXXXXX", "NL"),
        ]
    )
    number = phone_number(rng, pattern, region)
    international = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    return rng.choice(
        [
            international,
            international.replace(" ", "-"),
            phonenumbers.format_number(number, PhoneNumberFormat.E164),
        ]
    )


def phone(rng: random.Random) -> str:
    return rng.choice([gb_mobile, gb_mobile, gb_landline, us_phone, intl_phone])(rng)


def email(rng: random.Random, style: str | None = None) -> str:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    style = style or rng.choice(["dot", "digits", "underscore", "plus", "sub", "upper"])
    local = {
        "dot": f"{first}.{last}",
        "digits": f"{first}{last}{rng.randint(1, 99)}",
        "underscore": f"{first[0]}_{last}",
        "plus": f"{first}.{last}+{rng.choice(['bank', 'shopping', 'alerts'])}",
        "sub": f"{first[0]}.{last}",
        "upper": f"{first}.{last}".upper(),
    }[style]
    domain = rng.choice(SUBDOMAINS if style == "sub" else DOMAINS)
    return f"{local}@{domain.upper() if style == 'upper' else domain}"


def nino(rng: random.Random) -> str:
    while True:
        prefix = rng.choice("ABCEGHJKLMNOPRSTWXYZ") + rng.choice("ABCEGHJKLMNPRSTWXYZ")
        if prefix not in {"BG", "GB", "NK", "KN", "NT", "TN", "ZZ"}:
            break
    digits = "".join(rng.choice(string.digits) for _ in range(6))
    suffix = rng.choice("ABCD")
    if rng.random() < 0.5:
        return f"{prefix} {digits[:2]} {digits[2:4]} {digits[4:]} {suffix}"
    return f"{prefix}{digits}{suffix}"


def sort_code(rng: random.Random) -> str:
    parts = [f"{rng.randint(1, 99):02d}", f"{rng.randint(0, 99):02d}", f"{rng.randint(0, 99):02d}"]
    return rng.choice(["-", "-", " ", ""]).join(parts)


def account(rng: random.Random) -> str:
    return f"{rng.randint(10_000_000, 99_999_999)}"


def ip(rng: random.Random) -> str:
    if rng.random() < 0.25:
        return f"2001:db8:{rng.randint(1, 0xFFFF):x}::{rng.randint(1, 0xFFFF):x}"
    return ".".join(str(rng.randint(1, 254)) for _ in range(4))


def credentials(rng: random.Random) -> str:
    user = f"{rng.choice(FIRST)}{rng.randint(1, 9)}"
    return f"{user}:{rng.choice(['Summer2024!', 'hunter22', 'Pa55word'])}"


# Hard negatives: they look like identifiers but are not personal data.
def luhn_fail(rng: random.Random) -> str:
    network = rng.choice(["visa", "mastercard", "discover"])
    prefixes, length = NETWORKS[network]
    return fours(card_digits(rng, prefixes, length, valid=False), rng.choice([" ", "-", ""]))


def long_id(rng: random.Random) -> str:
    length = rng.randint(13, 19)
    while True:
        digits = str(rng.randint(1, 9)) + "".join(
            rng.choice(string.digits) for _ in range(length - 1)
        )
        if luhn_digit(digits[:-1]) != digits[-1]:
            return digits


def order(rng: random.Random) -> str:
    return rng.choice(
        [
            f"#{rng.randint(10_000_000, 99_999_999)}",
            f"ORD-{rng.randint(10_000_000, 99_999_999)}",
            f"{rng.randint(2019, 2025)}-{rng.randint(100_000, 999_999)}",
            f"{rng.randint(1_000_000_000, 9_999_999_999)}",
        ]
    )


def tracking(rng: random.Random) -> str:
    digits = lambda n: "".join(rng.choice(string.digits) for _ in range(n))  # noqa: E731
    return rng.choice(
        [
            f"{rng.choice(['AB', 'RX', 'JD', 'LX'])}{digits(9)}GB",
            f"1Z{''.join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(16))}",
            f"JD{digits(18)}",
            f"9400 {digits(4)} {digits(4)} {digits(4)} {digits(4)} {digits(2)}",
        ]
    )


def date(rng: random.Random) -> str:
    day, month, year = rng.randint(1, 28), rng.randint(1, 12), rng.randint(2019, 2026)
    return rng.choice(
        [
            f"{day:02d}/{month:02d}/{year}",
            f"{year}-{month:02d}-{day:02d}",
            f"{day:02d}.{month:02d}.{year % 100:02d}",
            f"{day:02d}-{month:02d}-{year % 100:02d}",
        ]
    )


def amount(rng: random.Random) -> str:
    value = rng.randint(1_000, 99_999_999) / 100
    return rng.choice([f"£{value:,.2f}", f"${value:,.2f}", f"€{value:,.2f}", f"{value:.2f} GBP"])


def time_of_day(rng: random.Random) -> str:
    return rng.choice(
        [
            f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}",
            f"{rng.randint(1, 12)}.{rng.randint(0, 59):02d}pm",
        ]
    )


def postcode(rng: random.Random) -> str:
    return rng.choice(
        ["SW1A 1AA", "M1 1AE", "EC1A 1BB", "LS2 7HY", "EH1 1YZ", "B33 8TH", "CR2 6XH"]
    )


def txn(rng: random.Random) -> str:
    return rng.choice(
        [
            f"TXN-{rng.randint(2020, 2026)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
            f"-{rng.randint(1000, 9999)}",
            "".join(rng.choice("0123456789abcdef") for _ in range(8))
            + "-"
            + "".join(rng.choice("0123456789abcdef") for _ in range(4)),
            f"{rng.randint(10**11, 10**12 - 1)}",
        ]
    )


def reference(rng: random.Random) -> str:
    return rng.choice(
        [
            f"REF-{rng.randint(1000, 9999)}-"
            f"{rng.choice(string.ascii_uppercase)}{rng.choice(string.ascii_uppercase)}",
            f"{rng.randint(10_000_000, 99_999_999)}",
            f"CS{rng.randint(100_000, 999_999)}",
        ]
    )


def last4(rng: random.Random) -> str:
    return f"{rng.randint(0, 9999):04d}"


def bad_iban(rng: random.Random) -> str:
    compact = iban_compact(rng, rng.choice(["GB", "DE", "FR", "ES"]), valid=False)
    return grouped(compact, [4] * 9, " ")


Generator = Callable[[random.Random], str]
POSITIVE: dict[str, tuple[str, Generator]] = {
    "card": ("CARD", card),
    "card_space": ("CARD", lambda r: card(r, style="space")),
    "card_dash": ("CARD", lambda r: card(r, style="dash")),
    "card_plain": ("CARD", lambda r: card(r, style="plain")),
    "visa": ("CARD", lambda r: card(r, "visa")),
    "visa13": ("CARD", lambda r: card(r, "visa13", "plain")),
    "visa19": ("CARD", lambda r: card(r, "visa19")),
    "mastercard": ("CARD", lambda r: card(r, "mastercard")),
    "mastercard2": ("CARD", lambda r: card(r, "mastercard2")),
    "amex": ("CARD", lambda r: card(r, "amex")),
    "discover": ("CARD", lambda r: card(r, "discover")),
    "diners": ("CARD", lambda r: card(r, "diners")),
    "jcb": ("CARD", lambda r: card(r, "jcb")),
    "maestro": ("CARD", lambda r: card(r, "maestro", r.choice(["plain", "space"]))),
    "unionpay": ("CARD", lambda r: card(r, "unionpay")),
    "email": ("EMAIL", email),
    "email_plus": ("EMAIL", lambda r: email(r, "plus")),
    "email_sub": ("EMAIL", lambda r: email(r, "sub")),
    "email_upper": ("EMAIL", lambda r: email(r, "upper")),
    "phone": ("PHONE", phone),
    "gb_mobile": ("PHONE", gb_mobile),
    "gb_landline": ("PHONE", gb_landline),
    "us_phone": ("PHONE", us_phone),
    "intl_phone": ("PHONE", intl_phone),
    "iban": ("IBAN", iban),
    "iban_gb": ("IBAN", lambda r: iban(r, "GB")),
    "iban_compact": ("IBAN", lambda r: iban(r, spaced=False)),
    "iban_spaced": ("IBAN", lambda r: iban(r, spaced=True)),
    "nino": ("NI_NUMBER", nino),
    "sort_code": ("SORT_CODE", sort_code),
    "account": ("ACCOUNT_NUMBER", account),
    "ip": ("IP_ADDRESS", ip),
    "credentials": ("CREDENTIALS", credentials),
}
NEGATIVE: dict[str, Generator] = {
    "luhn_fail": luhn_fail,
    "long_id": long_id,
    "order": order,
    "tracking": tracking,
    "date": date,
    "amount": amount,
    "time": time_of_day,
    "postcode": postcode,
    "txn": txn,
    "ref": reference,
    "last4": last4,
    "bad_iban": bad_iban,
}

TEMPLATES = [
    # Cards, in many formats and positions.
    "my card number is {card}",
    "Card number: {card_space}",
    "card no. {card_dash} has been swallowed by the ATM",
    "{card_plain}",
    "I lost my visa {visa} yesterday on the bus",
    "please block {mastercard} asap",
    "the new mastercard {mastercard2} isn't working online",
    "amex {amex} was declined at the hotel",
    "Hi, my Amex is {amex}, can you check the last payment?",
    "Discover card {discover}, charged twice",
    "Diners Club {diners} - is it still accepted?",
    "JCB card {jcb} blocked abroad",
    "my maestro {maestro} doesn't work in the machine",
    "UnionPay {unionpay} for my trip to Shanghai",
    "old visa card {visa13} still shows on my account",
    "the 19 digit one: {visa19}",
    "card: {card_plain} expiry 09/27",
    "card {card_space} exp 11/26 please cancel it",
    "{card_dash} is the card that was stolen",
    "Can you refund the payment made with {card}?",
    "i think someone used my card ({card_space}) in a shop i've never been to",
    "CARD NUMBER {card_plain}",
    "It's {visa} and the pin isn't working",
    "replace {mastercard} and {visa} please, both were in my wallet",
    "cc {card_space}",
    "My debit card number {card_dash}, the contactless limit is too low",
    "freeze card {card}. thanks",
    "the card ending {last4} was lost, full number {card_space}",
    "new card {card_plain} arrived but it says inactive",
    "payment from {mastercard2} failed on {date}",
    "card {amex} charged {amount} twice",
    "I typed {card_plain} into a dodgy website, what do I do",
    "number on the front is {card_space}, name J Smith",
    "pls check card {visa}!!",
    "{card} - that's the card",
    "The long card number: {maestro}.",
    "my son's card {card_dash} was used without permission",
    "is {discover} a valid card for Apple Pay?",
    "card:{card_plain}",
    "Virtual card {mastercard} shows as cancelled",
    # E-mails.
    "my email is {email}",
    "Please send the statement to {email_plus}",
    "contact me at {email_sub} thanks",
    "EMAIL: {email_upper}",
    "update my address to {email}, the old one is {email}",
    "{email}",
    "I didn't get the code at {email_plus}.",
    "can you email {email_sub}? it's my work address",
    "reply to <{email}> please",
    "the confirmation went to {email_upper} by mistake",
    "Email ({email}) no longer works",
    "change e-mail from {email} to {email_plus}",
    "my partner's email, {email_sub}, should get the letters too",
    "Sent a screenshot to {email} an hour ago",
    "is {email} registered on my account?",
    "I use {email_plus} for alerts",
    "contact: {email}; phone: {phone}",
    "mail me on {email_sub} or call {gb_mobile}",
    # Phones.
    "my number is {gb_mobile}",
    "call me on {gb_mobile} after 5",
    "mobile: {gb_mobile}",
    "Please ring {gb_landline} during office hours",
    "home phone {gb_landline}",
    "you can reach me at {us_phone}",
    "my US number is {us_phone}, I'm travelling",
    "I'm abroad, try {intl_phone}",
    "New number: {intl_phone}",
    "call {phone}",
    "{gb_mobile}",
    "text me at {gb_mobile} when it's done",
    "change my phone number to {phone} please",
    "My old number {gb_mobile} is no longer in use, the new one is {gb_mobile}",
    "daytime {gb_landline}, evenings {gb_mobile}",
    "the fraud team called me from {gb_landline}, is that really you?",
    "Tel. {us_phone}",
    "phone ({intl_phone}) works on whatsapp",
    "Could someone phone me on {phone}?",
    "my wife's mobile is {gb_mobile}",
    "Reach me on {intl_phone} while I'm on holiday until {date}",
    "is {us_phone} your fraud line?",
    "I got a text from {gb_mobile} asking for my pin",
    "contact number - {phone}",
    "pls call back {gb_mobile} thx",
    "number {us_phone}",
    "I'll be at {gb_landline} all day",
    "whatsapp {intl_phone}",
    "Someone called from {us_phone} claiming to be the bank",
    "call me at {phone} or email {email}",
    "my number's {gb_mobile}.",
    "ring {us_phone}!",
    "E-mail:{email}",
    "(work email {email_sub})",
    # IBANs.
    "my IBAN is {iban}",
    "IBAN: {iban_gb}",
    "please send the refund to {iban_spaced}",
    "transfer to {iban_compact} failed",
    "the recipient's iban {iban} was rejected",
    "{iban_spaced}",
    "I sent {amount} to {iban} on {date}",
    "can you confirm {iban_gb} is my account?",
    "pay the deposit into {iban_compact}, reference {ref}",
    "German account {iban}.",
    "IBAN {iban_spaced} BIC NWBKGB2L",
    "I want my salary paid to {iban_compact} from next month",
    "both {iban} and {iban} are mine",
    "the landlord's IBAN ({iban_spaced}) bounced",
    "Is a transfer to {iban} covered?",
    # Other identifiers.
    "my national insurance number is {nino}",
    "NI number: {nino}",
    "sort code {sort_code} account number {account}",
    "Sort code: {sort_code}, account: {account}",
    "please pay {sort_code} {account} the full amount",
    "account number {account}",
    "my account no is {account} and sort code {sort_code}",
    "acc no {account}",
    "logged in from {ip} and it says blocked",
    "the login came from {ip}, that wasn't me",
    "NINO {nino}",
    "ni no. {nino} for the ISA application",
    "my national insurance is {nino}, do you need it?",
    "IP address {ip}",
    "the device at {ip} keeps getting locked out",
    "send it to account {account}, sort code {sort_code}",
    "sort code {sort_code}, acc {account}",
    "the API call to https://{credentials}@api.example.com/v1 fails",
    "try ftp://{credentials}@files.example.org/statements",
    # Several kinds in one message.
    "Name: J Patel, card {card_space}, phone {gb_mobile}, email {email}",
    "I'm {email_plus}, card {card}, please call {phone}",
    "refund to IBAN {iban} or card {card_plain}",
    "email {email_upper}, mobile {gb_mobile}, NI {nino}",
    "account {account}, sort code {sort_code}, phone {gb_landline}",
    "card {amex}, phone {us_phone}",
    "from {email_sub}: the card {card_dash} was blocked when I was at {ip}",
    "call {intl_phone} or email {email} about card {card}",
    # Hard negatives mixed with PII.
    "card ending {last4}, my phone is {gb_mobile}",
    "order {order} - charged on card {card}",
    "tracking {tracking}, contact {email}",
    "paid {amount} on {date} with {card_space}",
    "transaction {txn} on card {visa}",
    "ref {ref}: please call {phone}",
    "I tried {luhn_fail} but the real card is {card_space}",
    "delivery to {postcode} at {time}, call {gb_mobile} on arrival",
    "the transfer {txn} to {iban} on {date}",
    "case {ref}, email {email_plus}",
    # Hard negatives only.
    "my order number is {order}",
    "Order {order} hasn't arrived",
    "where is my parcel? tracking number {tracking}",
    "Tracking: {tracking}",
    "I paid {amount} on {date}",
    "the payment of {amount} on {date} at {time} wasn't me",
    "card ending {last4} was declined",
    "my card ending in {last4} is lost",
    "the last four digits are {last4}",
    "transaction id {txn}",
    "txn {txn} failed",
    "reference {ref}",
    "my case number is {ref}",
    "the number on the letter is {luhn_fail}",
    "is {luhn_fail} a valid card number?",
    "card number {luhn_fail} - is that right?",
    "I got a code {long_id} in the text",
    "payment reference {long_id}",
    "Your statement id {long_id} is attached",
    "I live at {postcode}",
    "postcode {postcode}, flat 4",
    "appointment at {time} on {date}",
    "branch closes at {time}",
    "between {date} and {date} I was charged {amount}",
    "balance is {amount}",
    "withdrew {amount} at {time}",
    "the IBAN {bad_iban} didn't work",
    "is {bad_iban} right? the bank said the checksum is wrong",
    "order {order}, invoice {order}",
    "my parcel {tracking} is stuck since {date}",
    "refund {amount} for order {order}",
    "I was charged {amount} instead of {amount}",
    "standing order on {date} for {amount}",
    "my customer number is {ref}",
    "policy {long_id}",
    "the receipt says auth code {last4} and terminal {long_id}",
    "reference number {order}",
    "loan {order} - when is the next payment?",
    "ticket {ref} was closed on {date}",
    "direct debit of {amount} on {date} is wrong",
    "app version 5.12.3 crashes on login",
    "I was on hold from {time} to {time}",
    "statement for {date} shows {amount}",
    "the card ending {last4} and the one ending {last4}",
    "two payments, {txn} and {txn}",
    "the meeting is on {date} in room 12",
    "my daughter was born {date} and needs a junior account",
    # Messages with no identifier at all.
    "where is my card?",
    "I want to speak to a human",
    "my card was swallowed by the cash machine",
    "How do I change my PIN?",
    "why was I charged a fee for a transfer abroad?",
    "the app keeps logging me out",
    "can I get a refund for a duplicate payment?",
    "I forgot my passcode, help!",
    "what's the exchange rate for euros today",
    "my contactless payment didn't go through",
    "cancel my direct debit to the gym",
    "I think my account has been hacked",
    "how long does a bank transfer take",
    "I need a new card, mine is broken",
    "Thanks, that fixed it :)",
    "is there a fee for topping up by card?",
    "Can I have 2 cards on 1 account?",
    "my salary of 3 thousand hasn't arrived",
    "I was charged 4 times for 1 coffee",
    "the ATM gave me 20 pounds less than I asked for",
    "card number is on the back, right?",
    "email me the details please",
    "call me back tomorrow",
    "I already gave you my phone number",
    "what's the IBAN format for a German account?",
]


def render(template: str, rng: random.Random) -> tuple[str, list[dict[str, object]]]:
    """Fill the slots of `template`; positive slots become gold spans."""
    parts, spans, at, cursor = [], [], 0, 0
    for match in SLOT.finditer(template):
        literal = template[cursor : match.start()]
        parts.append(literal)
        at += len(literal)
        slot = match.group(1)
        if slot in POSITIVE:
            kind, make = POSITIVE[slot]
            value = make(rng)
            spans.append({"kind": kind, "start": at, "end": at + len(value)})
        else:
            value = NEGATIVE[slot](rng)
        parts.append(value)
        at += len(value)
        cursor = match.end()
    parts.append(template[cursor:])
    return "".join(parts), spans


def build(seed: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    cases = []
    for index, template in enumerate(TEMPLATES):
        text, spans = render(template, rng)
        split = "holdout" if index % HOLDOUT_EVERY == HOLDOUT_EVERY - 1 else "dev"
        cases.append({"id": index, "split": split, "text": text, "spans": spans})
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench/data/pii_cases.jsonl"))
    parser.add_argument("--seed", type=int, default=20261122)
    args = parser.parse_args()
    cases = build(args.seed)
    with args.out.open("w", encoding="utf-8") as handle:
        for case in cases:
            handle.write(json.dumps(case, ensure_ascii=False) + "\n")
    print(f"wrote {len(cases)} cases to {args.out}")


if __name__ == "__main__":
    main()
