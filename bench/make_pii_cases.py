"""Write `bench/data/pii_cases.jsonl`, the labelled PII set, from hand-written templates.

The sentences are written for this project; only the identifiers in them are generated, so
that every gold span offset is exact and every card passes Luhn, every IBAN its mod-97
check and every phone number its numbering plan (a real customer's number always does).
Hard negatives (Luhn-failing card-like numbers, IBANs with a wrong check, order numbers,
dates, amounts...) are generated too and carry no span. The sentences are in
`bench.pii_cases.templates`, the generators in `bench.pii_cases.identifiers` and
`bench.pii_cases.negatives`; this module maps the templates' slots to them.

    .venv/bin/python -m bench.make_pii_cases --out bench/data/pii_cases.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections.abc import Callable
from pathlib import Path

from bench.pii_cases.identifiers import (
    account,
    card,
    credentials,
    email,
    gb_landline,
    gb_mobile,
    iban,
    intl_phone,
    ip,
    nino,
    phone,
    sort_code,
    us_phone,
)
from bench.pii_cases.negatives import (
    amount,
    bad_iban,
    date,
    last4,
    long_id,
    luhn_fail,
    order,
    postcode,
    reference,
    time_of_day,
    tracking,
    txn,
)
from bench.pii_cases.templates import TEMPLATES

SLOT = re.compile(r"\{(\w+)\}")
HOLDOUT_EVERY = 3

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
