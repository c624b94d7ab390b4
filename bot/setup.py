"""Preparing a CRM store for use: schema, the admin account, demo data."""

from __future__ import annotations

import secrets

from sqlalchemy.engine import Engine

from bot.crm.database import create_crm_engine, migrate
from bot.crm.repository import CRMRepository
from bot.crm.seed import seed_demo
from bot.crm.ticket_search import TicketSearch
from bot.settings import Settings

ADMIN_USERNAME = "admin"


def ensure_admin(repository: CRMRepository, password: str | None) -> str | None:
    """Create the `admin` supervisor once; returns the password only when it was just made."""
    if any(staff.username == ADMIN_USERNAME for staff in repository.list_staff()):
        return None
    password = password or secrets.token_urlsafe(12)
    repository.create_staff(ADMIN_USERNAME, password, "supervisor")
    return password


def prepare_store(settings: Settings, seed: bool = True) -> tuple[Engine, str | None]:
    """Migrate, create the admin, seed the demo and index past tickets, each only once.

    Returns the engine and the admin password when the account was just created.
    """
    migrate(settings.database_url)
    engine = create_crm_engine(settings.database_url)
    repository = CRMRepository(engine)
    new_password = ensure_admin(repository, settings.admin_password)
    if seed:
        seed_demo(engine)
    if not (settings.similar_index_dir / "meta.json").exists():
        TicketSearch(repository, settings.similar_index_dir, writer=True).rebuild()
    return engine, new_password
