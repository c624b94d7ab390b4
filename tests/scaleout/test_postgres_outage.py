"""The PostgreSQL CRM store refuses connections while eight conversations go on.

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
OUTAGE_S = 15
"""Each delivery fails at once (the database refuses connections), so the relay's backoff
(0.2 s doubling to its 5 s cap, bot/outbox/relay.py) runs through about seven failures,
the cap included, before the database is back."""
RELAY_FAILED_S = 10
"""Failures from the first turn in the outage (a few seconds in) to the end; at least five
backoff steps."""


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


def test_postgresql_crm_refusing_connections_while_conversations_go_on(
    postgres_stack: Stack,
) -> None:
    crm_url = postgres_stack.settings.database_url
    assert crm_url != postgres_stack.settings.tracker_url, "only the CRM store fails"
    converse_through_outage(
        postgres_stack,
        lambda: postgres_refusing(crm_url),
        outage_s=OUTAGE_S,
        relay_failed_s=RELAY_FAILED_S,
    )
