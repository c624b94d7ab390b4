"""The migrations build exactly the models' schema, and the demo seed is deterministic."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.crm.database import create_crm_engine, migrate
from bot.crm.models import Base, Card, Customer, Ticket, Transaction
from bot.crm.repository import CRMRepository
from bot.crm.seed import seed_demo
from tests.conftest import SEED_DAY


def test_migrations_match_the_models(database_url: str) -> None:
    migrate(database_url)
    migrate(database_url)  # a second run on a current schema changes nothing
    engine = create_crm_engine(database_url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == []


def test_demo_seed_has_customers_cards_transactions_and_resolved_tickets(
    repository: CRMRepository,
) -> None:
    assert seed_demo(repository.engine, today=SEED_DAY) == 200
    with Session(repository.engine) as session:
        assert session.scalar(select(func.count(Customer.id))) == 200
        customers_with_cards = session.scalar(select(func.count(func.distinct(Card.customer_id))))
        assert customers_with_cards == 200
        assert session.scalar(select(func.count(Transaction.id))) >= 200 * 5
        resolved = session.scalars(select(Ticket).where(Ticket.status == "resolved")).all()
        assert len(resolved) >= 50
        assert all(ticket.resolution for ticket in resolved)
    assert seed_demo(repository.engine, today=SEED_DAY) == 0, "seeding twice adds nothing"


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


def test_the_first_demo_customer_has_a_card_on_its_way(repository: CRMRepository) -> None:
    seed_demo(repository.engine, customers=5, today=SEED_DAY)
    in_transit = [c for c in repository.customer_cards(1) if c.status == "shipped"]
    assert len(in_transit) == 1
    assert in_transit[0].kind == "physical"
    assert in_transit[0].expected_delivery > SEED_DAY
