"""Customer tokens as the server would have issued them some time ago, for expiry tests."""

from __future__ import annotations

import time

import pytest
from itsdangerous import TimestampSigner

from bot.identity import CUSTOMER_TOKEN_MAX_AGE_S, issue_customer_token


def token_issued_ago(
    token_key: str, customer_id: int, age_s: int = CUSTOMER_TOKEN_MAX_AGE_S + 60
) -> str:
    """A token signed with `token_key` `age_s` seconds ago; by default, just expired."""
    issued_at = int(time.time()) - age_s
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(TimestampSigner, "get_timestamp", lambda _signer: issued_at)
        return issue_customer_token(token_key, customer_id)
