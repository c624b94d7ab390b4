"""Valid identifiers for the PII cases: cards pass Luhn, IBANs mod-97, phones their plan."""

from __future__ import annotations

import random
import re
import string

import phonenumbers
from phonenumbers import PhoneNumberFormat

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
