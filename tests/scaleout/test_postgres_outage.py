"""The PostgreSQL CRM store refuses connections for a minute while eight conversations go on.

Here rather than in tests/faults: that package's SQLite stack lives until its last test, and
two stacks at once would slow both down on a small machine.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.faults.harness import (
    Stack,
    base_env,
    postgres_databases,
    refuse_connections,
    running_stack,
)
from tests.faults.outage import converse_through_outage

pytestmark = pytest.mark.e2e


@contextmanager
def postgres_refusing(database_url: str) -> Iterator[None]:
    refuse_connections(database_url, refuse=True)
    try:
        yield
    finally:
        refuse_connections(database_url, refuse=False)


@pytest.fixture(scope="module")
def postgres_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The CRM in a database of its own, Rasa's tracker in another, so only the CRM fails."""
    with postgres_databases("crm", "tracker") as urls:
        var_dir = tmp_path_factory.mktemp("faults-pg-var")
        env = base_env(var_dir, urls["crm"], RASA_TRACKER_URL=urls["tracker"])
        with running_stack(var_dir, env) as stack:
            yield stack


def test_postgresql_crm_refusing_connections_for_a_minute(postgres_stack: Stack) -> None:
    crm_url = postgres_stack.settings.database_url
    converse_through_outage(postgres_stack, lambda: postgres_refusing(crm_url))
