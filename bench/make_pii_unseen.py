"""Held-out PII test set ("unseen" split), written independently of the redactor.

Builds ~400 customer-service messages from public value formats (card BIN ranges + Luhn,
IBAN mod-97, national phone plans via `phonenumbers`, HMRC NI rules, ...).  Every span is
computed from the offsets at which a value is inserted into its template, and asserted.

    .venv/bin/python -m bench.make_pii_unseen
"""

from __future__ import annotations

import json
import random
import re
import string
from collections import Counter
from pathlib import Path

import phonenumbers
from phonenumbers import PhoneNumberFormat as PNF
from phonenumbers import PhoneNumberType as PNT

SEED = 20250611
OUT = Path(__file__).resolve().parent / "data" / "pii_unseen.jsonl"
N_NEGATIVE = 120
rng = random.Random(SEED)
DIG, UP = string.digits, string.ascii_uppercase
SLOT = re.compile(r"\{([A-Z_]+?)\d?\}")  # {KIND} or {KIND2}; the span kind is KIND
FULLWIDTH = str.maketrans(DIG, "".join(chr(0xFF10 + i) for i in range(10)))


def lines(block: str) -> list[str]:
    return [ln.strip() for ln in block.strip().splitlines()]


def words(block: str) -> list[str]:
    return block.split()


def digits(n: int) -> str:
    return "".join(rng.choice(DIG) for _ in range(n))


def build(tpl: str, gen: dict) -> tuple[str, list[dict]]:
    """Fill each {KIND} slot with gen[KIND](); spans are the offsets of the inserted values."""
    text, spans, inserted, last = "", [], [], 0
    for m in SLOT.finditer(tpl):
        text += tpl[last : m.start()]
        value = gen[m.group(1)]()
        spans.append({"kind": m.group(1), "start": len(text), "end": len(text) + len(value)})
        inserted.append(value)
        text += value
        last = m.end()
    text += tpl[last:]
    assert "{" not in text and "}" not in text, tpl
    for sp, value in zip(spans, inserted, strict=True):
        assert text[sp["start"] : sp["end"]] == value, (text, sp, value)
    return text, spans


# ---------------------------------------------------------------- cards, expiry, CVV, PIN
def luhn_ok(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


G16, G19 = (4, 4, 4, 4), (4, 4, 4, 4, 3)
BRANDS = [  # (issuer prefix, grouping): Visa x2, Mastercard 51-55 and 2221-2720, Amex 4-6-5
    (lambda: "4", G16),
    (lambda: "4", G16),
    (lambda: str(rng.randint(51, 55)), G16),
    (lambda: str(rng.randint(2221, 2720)), G16),
    (lambda: rng.choice(["34", "37"]), (4, 6, 5)),
    (lambda: rng.choice(["6011", "65", str(rng.randint(644, 649))]), G16),  # Discover
    (lambda: rng.choice(["6759", "5018", "5020", "6304"]), G16),  # Maestro, 16 or 19 digits
    (lambda: rng.choice(["6759", "5018", "5020", "6304"]), G19),
]
CARD_SEPS = [" ", " ", "-", "-", ".", "/", " - ", "\u00a0", "\u2009", "\u200b", ""]
AMEX = [False]


def card() -> str:
    prefix_fn, groups = rng.choice(BRANDS)
    body = (prefix_fn() + digits(sum(groups)))[: sum(groups) - 1]
    number = body + next(c for c in DIG if luhn_ok(body + c))
    assert luhn_ok(number) and len(number) == sum(groups)
    cuts = [sum(groups[:i]) for i in range(len(groups) + 1)]
    value = rng.choice(CARD_SEPS).join(number[a:b] for a, b in zip(cuts, cuts[1:], strict=False))
    if rng.random() < 0.08:
        value = value.translate(FULLWIDTH)
    AMEX[0] = len(number) == 15  # the CVV that follows is 4 digits for Amex
    return value


def expiry() -> str:
    m, y = rng.randint(1, 12), rng.randint(25, 31)
    return rng.choice([f"{m:02d}/{y}", f"{m:02d}-20{y}", f"{m}/{y}", f"{m:02d}/20{y}", f"{m}-{y}"])


CARD_T = lines("""
    my card number is {CARD}
    Card number: {CARD} - it was declined twice today
    can you block {CARD} please, I think it was cloned
    the card that got charged is {CARD}.
    card no {CARD} was swallowed by the ATM on the high street
    {CARD} is my debit card, why is it frozen?
    Hi, my new card ({CARD}) hasn't been activated yet
    mi tarjeta es la {CARD} y no funciona en el cajero
    Meine Kartennummer lautet {CARD}, bitte sperren Sie sie sofort.
    le numéro de ma carte est {CARD}, merci de la bloquer
    pls refund to card {CARD} thx
    I used {CARD} at the petrol station and was charged £64.20 twice
""")
CARD_FULL_T = lines("""
    card {CARD} exp {EXPIRY} cvv {CVV}
    Card: {CARD}, expiry {EXPIRY}, security code {CVV}
    {CARD} expires {EXPIRY} and the CVC is {CVV}
    number {CARD} valid thru {EXPIRY}, the digits on the back are {CVV}
    Karte {CARD}, gültig bis {EXPIRY}, Prüfnummer (CVC) {CVV}
    tarjeta {CARD} caduca {EXPIRY} CVV {CVV}
    carte {CARD} date d'expiration {EXPIRY} cryptogramme CVV {CVV}
    my card is {CARD} exp {EXPIRY}
    card {CARD} CVV: {CVV}
    I'm typing it here: {CARD} {EXPIRY} {CVV}
""")
PIN_T = lines("""
    my PIN is {PIN} but the machine says it's wrong
    I changed my pin to {PIN} yesterday and it's already blocked
    PIN: {PIN}
    is {PIN} an allowed PIN? it says too simple
    Meine PIN lautet {PIN}, funktioniert aber nicht
    Mi PIN es {PIN} y la tarjeta está bloqueada
    mon code PIN est {PIN}
""")


# ---------------------------------------------------------------- phones
REGIONS = words("GB IE DE FR ES IT NL US IN BR AU JP NG CA PL ZA MX SG CH PT")
INVALID_REGIONS = words("GB GB GB US US DE FR IN AU NG")


def phone_obj(region: str, valid: bool) -> tuple[phonenumbers.PhoneNumber, ...]:
    """A random number shaped like the region's example number, valid or not by its plan."""
    ntype = PNT.MOBILE if region == "GB" and not valid else rng.choice([PNT.MOBILE, PNT.FIXED_LINE])
    ex = phonenumbers.example_number_for_type(region, ntype)
    nsn = phonenumbers.national_significant_number(ex)
    keep = rng.randint(2, 4)
    for _ in range(2000):
        head = nsn[:keep]
        if not valid:  # GB: non-existent 07 ranges, Ofcom drama 07700 900; NANP: 555/N11/1xx
            gb, nanp = rng.choice(["7", "7", "77009"]), rng.choice(["555", "411", "123", "911"])
            head = {"GB": gb, "US": nanp}.get(region, rng.choice(DIG[1:]))
        num = phonenumbers.parse(f"+{ex.country_code}{head}{digits(len(nsn) - len(head))}")
        if phonenumbers.is_valid_number(num) == valid and phonenumbers.is_possible_number(num):
            return num, ex
    raise RuntimeError(f"no {'valid' if valid else 'invalid'} number for {region}")


def phone(valid: bool = True) -> str:
    region = rng.choice(REGIONS if valid else INVALID_REGIONS)
    num, ex = phone_obj(region, valid)
    nsn = phonenumbers.national_significant_number(num)

    def fmt(style: int) -> str:  # an invalid number is laid out like the region's example
        out = list(phonenumbers.format_number(num if valid else ex, style))
        where = [i for i, ch in enumerate(out) if ch.isdigit()][-len(nsn) :]
        for i, d in zip(where, nsn, strict=True):
            out[i] = d
        return "".join(out)

    intl, nat = fmt(PNF.INTERNATIONAL), fmt(PNF.NATIONAL)
    groups = re.split(r"[ \-]", intl)
    style = rng.choice(["nat", "nat", "intl", "intl", "e164", "00", ".", "-", "(0)"])
    if style in (".", "-"):
        return style.join(groups)
    if style == "(0)" and region in ("GB", "DE", "AU", "NG", "FR") and nat.startswith("0"):
        return f"{groups[0]} (0){nat[1:]}"  # +44 (0)7700 900123
    std = {"nat": nat, "intl": intl, "e164": fmt(PNF.E164), "00": "00" + intl[1:]}
    return std.get(style, nat.replace(" ", ""))


PHONE_T = lines("""
    call me on {PHONE}
    my new mobile number is {PHONE}
    you can reach me at {PHONE} after 6pm
    Please update my phone to {PHONE}, the old one was {PHONE2}
    text me: {PHONE}
    phone:{PHONE}
    I'm abroad, use {PHONE} (WhatsApp) instead
    the fraud team called me from {PHONE}, is that really you?
    Meine Handynummer ist {PHONE}, bitte rufen Sie zurück.
    Mi número de teléfono es el {PHONE}
    Vous pouvez me joindre au {PHONE} demain matin.
    number on file should be {PHONE} not {PHONE2}
    ring my husband on {PHONE}, he's the joint account holder
""")


# ---------------------------------------------------------------- IBAN, email, UK ids, IP
IBAN_SPEC = {  # country: BBAN pattern (a=letter, n=digit, c=alphanumeric), real bank codes
    "GB": ("4a6n8n", ["NWBK", "BARC", "LOYD", "HBUK", "MIDL"]),
    "IE": ("4a6n8n", ["AIBK", "BOFI"]),
    "NL": ("4a10n", ["ABNA", "RABO", "INGB"]),
    **{cc: (pat, []) for cc, pat in [("DE", "18n"), ("FR", "10n11c2n"), ("ES", "20n")]},
    **{cc: (pat, []) for cc, pat in [("IT", "1a10n12c"), ("BE", "12n"), ("CH", "5n12c")]},
    **{cc: (pat, []) for cc, pat in [("PL", "24n"), ("AT", "16n"), ("PT", "21n")]},
}


def mod97(s: str) -> int:
    return int("".join(str(int(ch, 36)) for ch in s)) % 97


def iban() -> str:
    cc = rng.choice(list(IBAN_SPEC))
    pattern, banks = IBAN_SPEC[cc]
    bban = rng.choice(banks) if banks else ""
    pool = {"a": UP, "n": DIG, "c": DIG * 8 + UP}
    for count, kind in re.findall(r"(\d+)([anc])", pattern)[1 if banks else 0 :]:
        bban += "".join(rng.choice(pool[kind]) for _ in range(int(count)))
    value = f"{cc}{98 - mod97(bban + cc + '00'):02d}{bban}"
    assert mod97(value[4:] + value[:4]) == 1
    if rng.random() < 0.6:
        value = " ".join(value[i : i + 4] for i in range(0, len(value), 4))
    case = rng.random()
    if case < 0.2:
        return value.lower()
    return "".join(c.lower() if rng.random() < 0.5 else c for c in value) if case < 0.35 else value


IBAN_T = lines("""
    please send the refund to IBAN {IBAN}
    my IBAN is {IBAN}.
    IBAN: {IBAN} (my old account in Dublin)
    transfer £500 to {IBAN} tomorrow
    Bitte überweisen Sie den Betrag auf {IBAN}, danke.
    Mi IBAN es {IBAN} para la devolución
    Mon IBAN est le suivant : {IBAN}
    is {IBAN} correct for my landlord? the payment bounced
""")
FIRST = words("james olivia mohammed amelia jack isla harry ava noah grace sofia lukas chloe")
LAST = words("smith jones patel williams obrien kowalski muller garcia rossi dubois nguyen")
DOMAINS = words("""gmail.com outlook.co.uk mail.btinternet.com students.ed.ac.uk web.de orange.fr
    yahoo.es libero.it proton.me studio.photography family.london smith-jones.co.nz posteo.de
    icloud.com northwest.coop tours.travel cs.uni-heidelberg.de mail.gov.ng hotmail.fr
    bigpond.com.au""")


def email() -> str:
    f, la, n = rng.choice(FIRST), rng.choice(LAST), rng.randint(1, 99)
    tag = rng.choice(["statements", "nw", "spam"])
    local = rng.choice([f"{f}.{la}", f"{f}_{la}{n}", f"{f[0]}.{la}+bank", f"{f}-{la}",
                        f"{la}.{f}{1960 + n}", f"{f}+{tag}", f"{f}.{la}.{n}",
                        f"{f}{la}"])  # fmt: skip
    value, r = f"{local}@{rng.choice(DOMAINS)}", rng.random()
    return value.upper() if r < 0.12 else value.title() if r < 0.2 else value


EMAIL_T = lines("""
    my email is {EMAIL}
    please send the statement to {EMAIL}.
    Email: {EMAIL}
    can you update my e-mail address to {EMAIL}? the old one {EMAIL2} is closed
    <{EMAIL}> is where the letters should go
    Meine E-Mail-Adresse lautet {EMAIL}.
    Mi correo es {EMAIL}, gracias
    écrivez-moi à {EMAIL} s'il vous plaît
    contact me via {EMAIL} or {PHONE}
""")


def ni_number() -> str:  # HMRC: no D F I Q U V; 2nd letter not O; some pairs never issued
    first = [c for c in UP if c not in "DFIQUV"]
    p = "GB"
    while p in words("BG GB KN NK NT TN ZZ"):
        p = rng.choice(first) + rng.choice([c for c in first if c != "O"])
    d, sfx = digits(6), rng.choice("ABCD")
    value = rng.choice([f"{p}{d}{sfx}", f"{p} {d[:2]} {d[2:4]} {d[4:]} {sfx}", f"{p}{d} {sfx}"])
    return value.lower() if rng.random() < 0.2 else value


NI_T = lines("""
    my national insurance number is {NI_NUMBER}
    NI no: {NI_NUMBER}
    NINO {NI_NUMBER} for the ISA application
    you asked for my NI number, it's {NI_NUMBER}
    National Insurance: {NI_NUMBER}. Date of birth I'd rather not say.
""")


BANK_T = lines("""
    sort code {SORT_CODE} account number {ACCOUNT_NUMBER}
    s/c {SORT_CODE} a/c {ACCOUNT_NUMBER}
    pay my rent into account {ACCOUNT_NUMBER}, sort code {SORT_CODE}
    my account number is {ACCOUNT_NUMBER}
    the sort code is {SORT_CODE}, is that one of your branches?
    Acc no. {ACCOUNT_NUMBER} / Sort {SORT_CODE}
    I can't see account {ACCOUNT_NUMBER} in the app
    transfer everything from {ACCOUNT_NUMBER} to my savings account {ACCOUNT_NUMBER2}
""")
IP_T = lines("""
    my IP address is {IP_ADDRESS}
    the login came from {IP_ADDRESS}, that wasn't me
    your site blocked {IP_ADDRESS} - that's my home connection
    Die Anmeldung kam von {IP_ADDRESS}, das war ich nicht.
    El acceso desde {IP_ADDRESS} no fui yo
""")


OCTET = [(1, 223), (0, 255)]  # first octet: unicast ranges only
GEN = {"CARD": card, "EXPIRY": expiry, "CVV": lambda: digits(4 if AMEX[0] else 3),
       "PIN": lambda: digits(rng.choice([4, 4, 4, 5, 6])), "PHONE": phone, "IBAN": iban,
       "EMAIL": email, "NI_NUMBER": ni_number, "ACCOUNT_NUMBER": lambda: digits(8),
       "SORT_CODE": lambda: rng.choice("------ ").join(f"{rng.randint(1, 99):02d}" for _ in "abc"),
       "IP_ADDRESS": lambda: ".".join(str(rng.randint(*OCTET[i > 0])) for i in range(4))
       }  # fmt: skip
BAD_PHONE = {**GEN, "PHONE": lambda: phone(valid=False)}
POSITIVES = [(38, CARD_T, GEN), (30, CARD_FULL_T, GEN), (14, PIN_T, GEN), (58, PHONE_T, GEN),
             (22, PHONE_T, BAD_PHONE), (36, IBAN_T, GEN), (32, EMAIL_T, GEN), (16, NI_T, GEN),
             (24, BANK_T, GEN), (14, IP_T, GEN)]  # fmt: skip


# ---------------------------------------------------------------- negatives (no PII at all)
def alts(block: str) -> list[str]:
    return block.split("|")


R = lambda lo, hi: lambda: str(rng.randint(lo, hi))  # noqa: E731
FILL = {  # <name> -> alternatives (may nest other <name>s) or a callable; <dN> = N digits
    "amt": alts("£<k>,<d3>.<d2>|£<d3>.<d2>|$<k>,<d3>.<d2>|<k>,<d3>.<d2> GBP|£<k>,<d3>|£<d2>"),
    "eur": alts("<k>.<d3>,<d2> €|<k> <d3>,<d2> €|<k>\u202f<d3>,<d2>€|<d3>,<d2> EUR|<k>.<d3> €"),
    "big": alts("£<k>0,000|£<d3>,500|£1,<d3>,000"),
    "date": alts("<dd>/<mm>/20<yy>|20<yy>-<mm>-<dd>|<dd>.<mm>.20<yy>|<dd> March 20<yy>|"
                 "<dd>-<mm>-<yy>|<m>/<dd>/<yy>"),
    "ref": alts("ORD-20<yy>-<d5>|INV-<d6>|TRX<d10>|#<L><d2><L>-<d5>|CAS-<d5>-<L><d1><L><d1>|"
                "REF<d6><L>"),
    "trk": alts("1Z<L><d2><L><L><d10>|<L><L><d9>GB|JD<d16>"),  # UPS, Royal Mail, DHL shapes
    "ver": alts("<m>.<n>.<d1>|10.0.<d5>.<d4>|v<m>.<n>"),
    "pct": alts("<n>%|<n>.<d1>%|<d1>.<d2>%"), "hhmm": alts("<hh>:<mi>|0<m>:<mi>"),
    "k": R(1, 99), "n": R(2, 60), "m": R(1, 9), "yr": R(1970, 2024), "hh": R(10, 23),
    "mi": lambda: f"{rng.randint(0, 59):02d}", "dd": lambda: f"{rng.randint(1, 28):02d}",
    "mm": lambda: f"{rng.randint(1, 12):02d}", "yy": R(19, 25), "rate": R(1000, 9999),
    "L": lambda: rng.choice(UP), "d4": lambda: digits(4),
}  # fmt: skip
NEG = lines("""
    I was charged <amt> twice yesterday at <hhmm>
    card ending <d4> was declined at Tesco
    the one ending in <d4> please, not the other card
    last four digits are <d4> if that helps
    Which card? The Visa ending <d4> or the Mastercard ending <d4>?
    my order <ref> hasn't arrived and I paid <amt>
    tracking number <trk> says delivered but nothing came
    I made <n> transactions on <date>, only <n> are mine
    my balance went from <amt> to <amt> overnight
    the rate is <pct> now, it was <pct> back in <yr>
    app version <ver> keeps crashing since the update on <date>
    Ich habe am <date> <eur> überwiesen, Referenz <ref>
    El <dd> de mayo pagué <eur> con la tarjeta terminada en <d4>
    J'ai payé <eur> le <date> à <hh>h<mi>
    Reference: <ref>
    standing order of <amt> on day <dd> of each month since <yr>
    call me back between <hhmm> and <hhmm> please
    <n> failed login attempts at <hhmm>:<mm> on <date>
    my mortgage is <big> over <n> years at <pct>
    statement period <date> to <date>
    on <dd>-<mm>-<yy> I paid <amt> and it went through twice
    the ATM gave me <n> notes of £20 instead of <amt>
    Ich habe <n> Überweisungen gemacht, insgesamt <eur>
    exchange rate was 1.<rate> EUR/GBP, fee <pct>
    pending since 20<yy>-<mm>-<dd>T<hhmm>:05Z
    cashback was <pct> of <amt>
    contactless limit is £100 and I tapped <n> times in <n> minutes
    Amazon order 2<dd>-<d7>-<d7> was refunded to the card ending <d4>
    my pension pot is <big> after <n> years
    Windows says build <ver>, browser <ver>
    Votre carte se terminant par <d4> ? Non, celle qui finit par <d4>.
    Die Karte mit den Endziffern <d4> wurde am <date> abgelehnt
    I've been a customer since <yr> and have <n> direct debits with you
    invoice <ref> dated <date> for <amt> incl. VAT at 20%
    between <hhmm> and <hhmm> on <date> there were <n> payments
    parcel <trk> weighed <n>.<dd> kg
    I need a loan of <amt> over <n> months
""")


def negative(tpl: str) -> str:
    while m := re.search(r"<(\w+)>", tpl):
        k = m.group(1)
        f = FILL.get(k) or (lambda n=int(k[1:]): digits(n))  # <dN>
        tpl = tpl[: m.start()] + (rng.choice(f) if isinstance(f, list) else f()) + tpl[m.end() :]
    return tpl


def main() -> None:
    cases, seen, neg = [], set(), 0
    for tpls, gen in [(t, g) for n, t, g in POSITIVES for _ in range(n)]:
        text, spans = build(rng.choice(tpls), gen)
        while text in seen:  # regenerate duplicates
            text, spans = build(rng.choice(tpls), gen)
        seen.add(text)
        cases.append({"text": text, "spans": spans})
    while neg < N_NEGATIVE:
        text = negative(NEG[neg % len(NEG)])
        assert not re.search(r"[<>{}]", text), text
        if text not in seen:
            seen.add(text)
            cases.append({"text": text, "spans": []})
            neg += 1
    rng.shuffle(cases)
    with OUT.open("w", encoding="utf-8") as fh:
        for i, c in enumerate(cases):
            row = {"id": i, "split": "unseen", "text": c["text"], "spans": c["spans"]}
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    kinds = Counter(s["kind"] for c in cases for s in c["spans"])
    print(f"wrote {len(cases)} cases ({neg} negatives) to {OUT}: {dict(sorted(kinds.items()))}")


if __name__ == "__main__":
    main()
