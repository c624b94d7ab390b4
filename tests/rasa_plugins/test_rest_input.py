"""The REST channel's input checks, one case each."""

from __future__ import annotations

import json

import pytest

from bot.json_input import InputError
from bot.rasa_plugins.limits import MAX_BODY_BYTES, MAX_MESSAGE_CHARS
from bot.rasa_plugins.rest_channel import parse_webhook_body


def body(**payload) -> bytes:
    return json.dumps(payload).encode()


def test_a_valid_request_gives_sender_text_and_metadata() -> None:
    raw = body(sender="c1", message="hi", metadata={"customer_token": "t"})
    assert parse_webhook_body(raw) == ("c1", "hi", {"customer_token": "t"})
    assert parse_webhook_body(body(sender="c1", message="hi")) == ("c1", "hi", {})


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        (b"\xff\xfe{}", 400, "invalid_utf8"),
        (b"{not json", 400, "invalid_json"),
        (b"[1, 2]", 400, "invalid_body"),
        (body(message="hi"), 400, "invalid_sender"),
        (body(sender="", message="hi"), 400, "invalid_sender"),
        (body(sender=5, message="hi"), 400, "invalid_sender"),
        (body(sender="a\nb", message="hi"), 400, "invalid_sender"),
        (body(sender="x" * 256, message="hi"), 400, "invalid_sender"),
        (body(sender="c1"), 400, "invalid_message"),
        (body(sender="c1", message=12), 400, "invalid_message"),
        (body(sender="c1", message="   "), 400, "empty_message"),
        (body(sender="c1", message="a" * (MAX_MESSAGE_CHARS + 1)), 413, "message_too_long"),
        (body(sender="c1", message="hi", metadata="token"), 400, "invalid_metadata"),
        (body(sender="c1", message="hi", pad="x" * MAX_BODY_BYTES), 413, "body_too_large"),
    ],
)
def test_bad_input_is_rejected_with_a_code(raw: bytes, status: int, code: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_webhook_body(raw)
    assert (caught.value.status, caught.value.code) == (status, code)
    assert str(caught.value)
