"""Human-friendly rendering of dates and amounts in the bot's answers."""

from __future__ import annotations

from datetime import datetime


def day(value: datetime) -> str:
    return f"{value.day} {value:%b %Y}"


def money(amount_cents: int, currency: str) -> str:
    symbol = {"GBP": "£", "EUR": "€", "USD": "$"}.get(currency, f"{currency} ")
    sign = "-" if amount_cents < 0 else ""
    return f"{sign}{symbol}{abs(amount_cents) / 100:,.2f}"
