"""Signatures between the product's own processes: any header value is a plain yes or no."""

from __future__ import annotations

import pytest

from bot.signing import sign, verify


def test_the_bodys_own_signature_verifies() -> None:
    assert verify("key", b"body", sign("key", b"body"))
    assert not verify("other key", b"body", sign("key", b"body"))


@pytest.mark.parametrize("signature", ["", "é", "\udce9", "é" * 64, "x" * 64])
def test_any_other_signature_is_false_without_raising(signature: str) -> None:
    assert not verify("key", b"body", signature)
