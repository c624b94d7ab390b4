"""Preparing a CRM store for use: schema, the admin account, demo data."""

from __future__ import annotations

import logging
import secrets

from sqlalchemy.engine import Engine

from bot.crm.database import create_crm_engine, migrate
from bot.crm.enums import JobTrigger, StaffRole
from bot.crm.seed import seed_demo
from bot.crm.store import CRMStore
from bot.crm.store.staff import ADMIN_USERNAME, StaffStore
from bot.crm.ticket_search import TicketSearch
from bot.jobs.registry import JOBS
from bot.jobs.runner import JobFailed, run_job
from bot.settings import Settings

log = logging.getLogger(__name__)


def ensure_admin(staff: StaffStore, password: str | None) -> str | None:
    """Create the `admin` account (role admin) once; returns the password only when just made."""
    if any(account.username == ADMIN_USERNAME for account in staff.list()):
        return None
    password = password or secrets.token_urlsafe(12)
    staff.create(ADMIN_USERNAME, password, StaffRole.ADMIN)
    return password


def run_every_job(store: CRMStore, settings: Settings) -> None:
    """Every job once, in the registry's order. A job that fails is recorded with its error
    and logged; the product starts anyway, and the next scheduled or manual run tries again."""
    for name in JOBS:
        try:
            run_job(store, settings, name, JobTrigger.SETUP, show_progress=True)
        except JobFailed as failed:
            log.warning(
                "the %s job failed at setup (run %s); see `crm jobs runs`", name, failed.run["id"]
            )


def prepare_store(settings: Settings, seed: bool = True) -> tuple[Engine, str | None]:
    """Migrate, create the admin, seed the demo and index past tickets, each only once.

    Freshly seeded demo data also gets one run of every analytics job, so the first start
    already shows segments, strategies, risk and hints instead of waiting for the night.
    Returns the engine and the admin password when the account was just created.
    """
    migrate(settings.database_url)
    engine = create_crm_engine(settings.database_url)
    store = CRMStore(engine)
    new_password = ensure_admin(store.staff, settings.admin_password)
    if seed and seed_demo(engine):
        run_every_job(store, settings)
    index = TicketSearch(store.tickets, settings.similar_index_dir, writer=True)
    if (settings.similar_index_dir / "meta.json").exists():
        index.prune()  # also rewrites an index in the layout before versions
    else:
        index.rebuild()
    return engine, new_password
