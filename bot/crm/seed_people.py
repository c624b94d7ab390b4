"""Customers the demo adds after its originals: new joiners, look-alikes and duplicates.

The cleaning job has to merge the duplicates (the same person registered again, with the
e-mail re-cased or padded, the phone written another way, a typo in the name) and leave the
look-alikes alone (the same name but another person, with their own e-mail, phone and city;
or a partner who shares a landline). A few rows carry the invalid values it has to fix.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import phonenumbers
from faker import Faker
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.crm.models import Customer

PLANTED_DUPLICATES = 6
LOOKALIKES = 4
INVALID: tuple[tuple[str, Callable[[str], str]], ...] = (
    ("email", lambda email: email.replace("@", ".")),
    ("phone", lambda _: "n/a"),
    ("name", lambda name: f"  {name.upper()}  "),
    ("city", lambda _: "  "),
)
"""Invalid values planted on the first customers added after the originals, in this order."""


@dataclass(frozen=True)
class Person:
    """A customer to add: its column values and the archetype its history follows."""

    values: dict[str, Any]
    archetype: str


def extras(
    rng: random.Random, fake: Faker, session: Session, originals: int, today: datetime
) -> list[Person]:
    """New joiners, then look-alikes, then duplicates of originals (never of customer 1)."""
    sources = session.execute(
        select(Customer.name, Customer.email, Customer.phone, Customer.city)
        .where(Customer.id > 1, Customer.id <= originals)
        .order_by(Customer.id)
    ).all()
    picked = rng.sample(sources, min(PLANTED_DUPLICATES + LOOKALIKES, len(sources)))
    duplicated, resembled = picked[:PLANTED_DUPLICATES], picked[PLANTED_DUPLICATES:]
    people = [
        _person(fake.name(), fake.email(), fake.phone_number(), fake.city(), rng, today, 5, 55)
        for _ in range(max(2, originals // 10))
    ]
    for index, (name, _, phone, _) in enumerate(resembled):
        partner = index == LOOKALIKES - 1
        people.append(
            _person(
                fake.name() if partner else name,
                fake.email(),
                phone if partner else fake.phone_number(),
                fake.city(),
                rng,
                today,
                100,
                1000,
                archetype="everyday",
            )
        )
    for (field, spoil), person in zip(INVALID, people, strict=False):
        person.values[field] = spoil(person.values[field])
    for variant, source in zip(VARIANTS, duplicated, strict=False):
        name, email, phone = variant(rng, fake, *source[:3])
        people.append(_person(name, email, phone, source[3], rng, today, 10, 200))
    return people


def _person(
    name: str,
    email: str | None,
    phone: str | None,
    city: str | None,
    rng: random.Random,
    today: datetime,
    min_days: int,
    max_days: int,
    archetype: str = "new",
) -> Person:
    joined = today - timedelta(days=rng.randint(min_days, max_days))
    values = {"name": name, "email": email, "phone": phone, "city": city, "created_at": joined}
    return Person(values, archetype)


def _typo(name: str, rng: random.Random, drop: bool) -> str:
    """The name with one letter of the surname dropped or two neighbours swapped."""
    first, space, last = name.rpartition(" ")
    if len(last) < 3:
        return name + "e"
    i = rng.randint(1, len(last) - 1)
    last = (
        last[:i] + last[i + 1 :] if drop else last[: i - 1] + last[i] + last[i - 1] + last[i + 1 :]
    )
    return first + space + last


def _formatted(phone: str, style: phonenumbers.PhoneNumberFormat) -> str:
    return phonenumbers.format_number(phonenumbers.parse(phone, "GB"), style)


Variant = Callable[[random.Random, Faker, str, str, str], tuple[str, str | None, str | None]]
INTERNATIONAL = phonenumbers.PhoneNumberFormat.INTERNATIONAL
NATIONAL = phonenumbers.PhoneNumberFormat.NATIONAL
VARIANTS: tuple[Variant, ...] = (
    lambda rng, fake, name, email, phone: (
        name,
        f" {email.upper()} ",
        _formatted(phone, INTERNATIONAL),
    ),
    lambda rng, fake, name, email, phone: (_typo(name, rng, drop=False), email, None),
    lambda rng, fake, name, email, phone: (
        name.lower(),
        fake.email(),
        _formatted(phone, NATIONAL),
    ),
    lambda rng, fake, name, email, phone: (_typo(name, rng, drop=True), email.title(), phone),
    lambda rng, fake, name, email, phone: (f"  {name} ", None, _formatted(phone, INTERNATIONAL)),
    lambda rng, fake, name, email, phone: (name, email, fake.phone_number()),
)
"""How each planted duplicate differs from the customer it duplicates."""
