"""Customer tokens and the server's claims: what verifies, for how long, and for whom."""

from __future__ import annotations

import pytest
from itsdangerous import URLSafeTimedSerializer

from bot.identity import (
    CUSTOMER_TOKEN_MAX_AGE_S,
    CUSTOMER_TOKEN_SALT,
    claimed_customer,
    customer_id_from_token,
    issue_customer_token,
    make_claim,
    verified_customer,
)
from bot.settings import KeyPurpose, load_settings
from tests.rasa_plugins.tokens import token_issued_ago

TOKEN_KEY = "token-key"
CLAIM_KEY = "claim-key"


def test_customer_tokens_verify_only_with_the_right_key() -> None:
    token = issue_customer_token("key-one", 42)
    assert customer_id_from_token("key-one", token) == 42
    assert customer_id_from_token("key-two", token) is None
    assert customer_id_from_token("key-one", token + "x") is None
    for bad in (None, "", 42, "x" * 2000, ["list"]):
        assert customer_id_from_token("key-one", bad) is None


def test_a_token_lives_one_hour() -> None:
    assert CUSTOMER_TOKEN_MAX_AGE_S == 3600
    assert customer_id_from_token(TOKEN_KEY, token_issued_ago(TOKEN_KEY, 42, 3600 - 60)) == 42
    assert customer_id_from_token(TOKEN_KEY, token_issued_ago(TOKEN_KEY, 42, 3600 + 60)) is None


@pytest.mark.parametrize(
    "payload", [{"customer_id": True}, {"customer_id": "1"}, [1], {"id": 1}, {"customer_id": 1.0}]
)
def test_a_signed_payload_names_only_an_integer_customer(payload: object) -> None:
    token = URLSafeTimedSerializer(TOKEN_KEY, salt=CUSTOMER_TOKEN_SALT).dumps(payload)
    assert customer_id_from_token(TOKEN_KEY, token) is None


def test_a_verified_customer_must_still_exist() -> None:
    token = issue_customer_token(TOKEN_KEY, 42)
    assert verified_customer(TOKEN_KEY, token, lambda customer_id: customer_id) == 42
    assert verified_customer(TOKEN_KEY, token, lambda _customer_id: None) is None
    assert verified_customer(TOKEN_KEY, "forged", lambda customer_id: customer_id) is None


def test_a_merged_customer_is_served_as_the_customer_they_were_merged_into() -> None:
    token = issue_customer_token(TOKEN_KEY, 225)
    assert verified_customer(TOKEN_KEY, token, {225: 33}.get) == 33


def test_a_claim_names_its_customer_in_its_own_conversation_only() -> None:
    claim = make_claim(CLAIM_KEY, "conv-a", 7)
    assert claimed_customer(CLAIM_KEY, "conv-a", claim) == 7
    assert claimed_customer(CLAIM_KEY, "conv-b", claim) is None
    assert claimed_customer("another-key", "conv-a", claim) is None
    assert claimed_customer(CLAIM_KEY, "conv-a\x007", make_claim(CLAIM_KEY, "conv-a", 7)) is None


@pytest.mark.parametrize(
    "claim",
    [
        None,
        "claim",
        {"id": 7},
        {"sig": "0" * 64},
        {"id": "7", "sig": make_claim(CLAIM_KEY, "conv-a", 7)["sig"]},
        {"id": True, "sig": make_claim(CLAIM_KEY, "conv-a", 1)["sig"]},
        {"id": 8, "sig": make_claim(CLAIM_KEY, "conv-a", 7)["sig"]},
        {"id": 7, "sig": "é" * 64},
        {"id": 7, "sig": 12},
    ],
)
def test_anything_but_the_servers_claim_names_no_one(claim: object) -> None:
    assert claimed_customer(CLAIM_KEY, "conv-a", claim) is None


def test_tokens_and_claims_use_different_derived_keys(tmp_path) -> None:
    settings = load_settings({"CRM_VAR_DIR": str(tmp_path), "CRM_SECRET_KEY": "master"})
    token_key = settings.key_for(KeyPurpose.CUSTOMER_TOKEN)
    claim_key = settings.key_for(KeyPurpose.CUSTOMER_CLAIM)
    assert len({token_key, claim_key, settings.secret_key}) == 3
    token = issue_customer_token(token_key, 5)
    assert customer_id_from_token(settings.secret_key, token) is None
    assert customer_id_from_token(claim_key, token) is None
