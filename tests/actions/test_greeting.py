"""What the greeting calls a customer."""

from __future__ import annotations

import pytest

from actions.greeting import first_name


@pytest.mark.parametrize(
    ("name", "first"),
    [
        ("Ms Jane Horton", "Jane"),
        ("DR. IAN SMITH", "Ian"),
        ("mrs ada lovelace", "Ada"),
        ("Dr Smith", "Dr Smith"),
        ("Miss", ""),
        ("Mrsa Khan", "Mrsa"),
    ],
)
def test_a_title_is_never_the_first_name(name: str, first: str) -> None:
    assert first_name(name) == first
