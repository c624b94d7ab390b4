"""One SQLite stack shared by the fault tests that use it (started once, stopped after them)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults.harness import Stack, base_env, running_stack


@pytest.fixture(scope="package")
def sqlite_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    var_dir = tmp_path_factory.mktemp("faults-var")
    env = base_env(var_dir, f"sqlite:///{var_dir / 'crm.sqlite3'}")
    with running_stack(var_dir, env) as stack:
        yield stack
