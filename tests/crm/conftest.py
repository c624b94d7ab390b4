"""A settable clock for the store's session expiry and audit times."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest

from bot.crm import models


@dataclass
class Clock:
    now: datetime

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Freezes `bot.crm.models.utcnow`, which the session and audit stores read."""
    frozen = Clock(datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc))
    monkeypatch.setattr(models, "utcnow", lambda: frozen.now)
    return frozen
