"""Hard negatives for the PII cases: they look like identifiers but are not personal data."""

from __future__ import annotations

import random
import string

from bench.pii_cases.identifiers import (
    NETWORKS,
    card_digits,
    fours,
    grouped,
    iban_compact,
    luhn_digit,
)


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
