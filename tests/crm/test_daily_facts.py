"""The daily rollups follow the conversation facts: built from them, rebuilt by day when a
fact is recomputed, idempotent, and the summary read from them equals the facts' own sums."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from bot.crm.models import utcnow
from bot.crm.models_supervision import GRAINS, ConversationFact, DailyFact, DailyIntentFact
from bot.crm.store import CRMStore
from bot.crm.store.daily_facts import DailyFactStore
from bot.crm.store.facts import FactStore
from tests.crm.test_metrics import NOW, build

F = ConversationFact


def totals(store: CRMStore) -> tuple[int, int, int]:
    """(conversations, customer messages, intent mix messages), equal at every grain."""
    found = set()
    with store.engine.connect() as connection:
        facts = connection.execute(
            select(func.count(), func.sum(F.customer_messages)).where(F.customer_messages > 0)
        ).one()
        for grain in GRAINS:
            daily = connection.execute(
                select(
                    func.sum(DailyFact.conversations), func.sum(DailyFact.customer_messages)
                ).where(DailyFact.grain == grain)
            ).one()
            intents = connection.scalar(
                select(func.sum(DailyIntentFact.messages)).where(DailyIntentFact.grain == grain)
            )
            assert tuple(daily) == tuple(facts), grain
            found.add((int(daily[0]), int(daily[1]), int(intents)))
    assert len(found) == 1
    return found.pop()


def test_coarse_grains_keep_one_row_per_day_and_dimension(store: CRMStore) -> None:
    build(store)
    FactStore(store.engine).refresh(now=NOW)
    DailyFactStore(store.engine).refresh()
    D = DailyFact
    with store.engine.connect() as connection:
        days = connection.scalar(select(func.count(F.day.distinct())))
        rows = dict(connection.execute(select(D.grain, func.count()).group_by(D.grain)).all())
        assert rows["day"] == days
        for grain, column in [("segment", F.segment_id), ("channel", F.channel)]:
            pairs = select(F.day, column).where(F.customer_messages > 0).distinct().subquery()
            assert rows[grain] == connection.scalar(select(func.count()).select_from(pairs))
        unused = connection.scalar(
            select(func.count()).where(
                D.grain == "day",
                (D.segment_id.is_not(None)) | D.channel.is_not(None) | D.intent.is_not(None),
            )
        )
        assert unused == 0


def test_refresh_rebuilds_only_the_days_of_recomputed_facts(store: CRMStore) -> None:
    build(store)
    FactStore(store.engine).refresh(now=NOW)
    daily = DailyFactStore(store.engine)
    with store.engine.connect() as connection:
        days = connection.scalar(select(func.count(F.day.distinct())))
    assert daily.refresh() == days
    before = totals(store)
    assert before[1] == before[2]  # every customer message has an intent row
    assert daily.refresh() == 0  # idempotent: nothing computed since

    with store.engine.begin() as connection:
        connection.execute(
            update(F)
            .where(F.conversation_id == "c2")
            .values(
                customer_messages=F.customer_messages + 1,
                computed_at=utcnow() + timedelta(minutes=1),
            )
        )
    assert daily.refresh() == 1
    after = totals(store)
    assert after[:2] == (before[0], before[1] + 1)
