"""The migrations build exactly the models' schema, and the demo seed is deterministic."""

from __future__ import annotations

from datetime import datetime, timezone

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select, text
from sqlalchemy.orm import Session

from bot.crm import models_delivery, models_supervision  # noqa: F401 (part of the schema)
from bot.crm.database import alembic_config, create_crm_engine, migrate
from bot.crm.models import Base, Card, Customer, Ticket, Transaction
from bot.crm.seed import seed_demo
from bot.crm.seed_people import LOOKALIKES, PLANTED_DUPLICATES
from bot.crm.store import CRMStore
from tests.conftest import SEED_DAY


def test_migrations_match_the_models(database_url: str) -> None:
    migrate(database_url)
    migrate(database_url)  # a second run on a current schema changes nothing
    engine = create_crm_engine(database_url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == []


def staff_roles(url: str) -> dict[str, str]:
    engine = create_crm_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT username, role FROM staff_users")).all()
    engine.dispose()
    return dict(rows)


def test_0003_makes_the_bootstrap_admin_an_admin_and_downgrades_cleanly(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "0002")
    engine = create_crm_engine(database_url)
    with engine.begin() as connection:
        for username in ("admin", "boss"):
            connection.execute(
                text(
                    "INSERT INTO staff_users (username, password_hash, role, active, created_at) "
                    "VALUES (:username, 'x', 'supervisor', :active, :at)"
                ),
                {"username": username, "active": True, "at": datetime.now(timezone.utc)},
            )
    migrate(database_url)
    assert staff_roles(database_url) == {"admin": "admin", "boss": "supervisor"}
    assert {"staff_sessions", "audit_log"} <= set(inspect(engine).get_table_names())

    command.downgrade(alembic_config(database_url), "0002")
    assert staff_roles(database_url) == {"admin": "supervisor", "boss": "supervisor"}
    assert not {"staff_sessions", "audit_log"} & set(inspect(engine).get_table_names())
    engine.dispose()
    migrate(database_url)
    assert staff_roles(database_url) == {"admin": "admin", "boss": "supervisor"}


def test_demo_seed_has_customers_cards_transactions_and_resolved_tickets(
    store: CRMStore,
) -> None:
    # 200 first draws, then new joiners, look-alikes and planted duplicates after them.
    created = seed_demo(store.engine, today=SEED_DAY)
    assert created == 200 + 200 // 10 + LOOKALIKES + PLANTED_DUPLICATES
    with Session(store.engine) as session:
        assert session.scalar(select(func.count(Customer.id))) == created
        customers_with_cards = session.scalar(select(func.count(func.distinct(Card.customer_id))))
        assert customers_with_cards == created
        assert session.scalar(select(func.count(Transaction.id))) >= 200 * 5
        resolved = session.scalars(select(Ticket).where(Ticket.status == "resolved")).all()
        assert len(resolved) >= 50
        assert all(ticket.resolution for ticket in resolved)
    assert seed_demo(store.engine, today=SEED_DAY) == 0, "seeding twice adds nothing"


def test_demo_seed_is_identical_on_every_run(tmp_path) -> None:
    snapshots = []
    for name in ("a", "b"):
        url = f"sqlite:///{tmp_path / name}.sqlite3"
        migrate(url)
        engine = create_crm_engine(url)
        seed_demo(engine, customers=30, today=SEED_DAY)
        with Session(engine) as session:
            snapshots.append(
                (
                    session.execute(select(Customer.name, Customer.email)).all(),
                    session.execute(select(Card.last_four, Card.status, Card.ordered_at)).all(),
                    session.execute(select(Transaction.amount_cents, Transaction.created_at)).all(),
                )
            )
        engine.dispose()
    assert snapshots[0] == snapshots[1]


def test_the_first_demo_customer_has_a_card_on_its_way(store: CRMStore) -> None:
    seed_demo(store.engine, customers=5, today=SEED_DAY)
    in_transit = [c for c in store.customers.cards(1) if c.status == "shipped"]
    assert len(in_transit) == 1
    assert in_transit[0].kind == "physical"
    assert in_transit[0].expected_delivery > SEED_DAY
