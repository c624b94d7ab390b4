"""Preparing a CRM store for use: schema, the admin account, demo data."""

from __future__ import annotations

import secrets

from sqlalchemy.engine import Engine

from bot.crm.database import create_crm_engine, migrate
from bot.crm.enums import StaffRole
from bot.crm.seed import seed_demo
from bot.crm.store import CRMStore
from bot.crm.store.staff import ADMIN_USERNAME, StaffStore
from bot.crm.ticket_search import TicketSearch
from bot.settings import Settings


def ensure_admin(staff: StaffStore, password: str | None) -> str | None:
    """Create the `admin` account (role admin) once; returns the password only when just made."""
    if any(account.username == ADMIN_USERNAME for account in staff.list()):
        return None
    password = password or secrets.token_urlsafe(12)
    staff.create(ADMIN_USERNAME, password, StaffRole.ADMIN)
    return password


def prepare_store(settings: Settings, seed: bool = True) -> tuple[Engine, str | None]:
    """Migrate, create the admin, seed the demo and index past tickets, each only once.

    Returns the engine and the admin password when the account was just created.
    """
    migrate(settings.database_url)
    engine = create_crm_engine(settings.database_url)
    store = CRMStore(engine)
    new_password = ensure_admin(store.staff, settings.admin_password)
    if seed:
        seed_demo(engine)
    if not (settings.similar_index_dir / "meta.json").exists():
        TicketSearch(store.tickets, settings.similar_index_dir, writer=True).rebuild()
    return engine, new_password
