"""The JSON body reader: a malformed or dangerous body is a 400 with its own code, not a crash."""

from __future__ import annotations

import json

import pytest

from bot.json_input import MAX_INTEGER, MAX_JSON_DEPTH, InputError, json_object, nesting_depth


def nested(depth: int) -> bytes:
    return b'{"a": ' + b"[" * (depth - 1) + b"1" + b"]" * (depth - 1) + b"}"


@pytest.mark.parametrize(
    ("body", "depth"),
    [
        (b"", 0),
        (b"{}", 1),
        (b'{"a": [1, {"b": []}], "c": {}}', 4),
        (b'{"a": "[[[[{{{{"}', 1),
        (b'{"a": "\\"[[[["}', 1),
        (b'{"a\\\\": [[]]}', 3),
        (b"[" * 100_000, 100_000),
        (b'["' + b"[" * 1000, 1),
    ],
)
def test_nesting_depth_counts_brackets_outside_strings(body: bytes, depth: int) -> None:
    assert nesting_depth(body) == depth


def test_the_depth_limit_is_inclusive() -> None:
    assert json_object(nested(MAX_JSON_DEPTH))["a"]
    assert json_object(nested(3), max_depth=3)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (nested(MAX_JSON_DEPTH + 1), "too_deep"),
        (b"[" * 200_000, "too_deep"),
        (b'{"a": ' + b"{" * 200_000, "too_deep"),
        (b'{"a": "x\x00"}', "nul_character"),
        (b'{"a\x00": 1}', "nul_character"),
        (b'{"a": "\\u0000"}', "nul_character"),
        (b'{"\\u0000": 1}', "nul_character"),
        (b'{"a": ["\\ud800"]}', "invalid_unicode"),
        (b'{"a": "\\udc00\\ud800"}', "invalid_unicode"),
        (b'{"a": 1' + b"0" * 5000 + b"}", "number_out_of_range"),
        (b'{"a": %d}' % (MAX_INTEGER + 1), "number_out_of_range"),
        (b'{"a": -%d}' % (MAX_INTEGER + 1), "number_out_of_range"),
        (b'{"a": 1e999}', "number_out_of_range"),
        (b'{"a": NaN}', "invalid_json"),
        (b'{"a": -Infinity}', "invalid_json"),
        (b"\xff\xfe{}", "invalid_utf8"),
        (b"{not json", "invalid_json"),
        (b'{"a": [}', "invalid_json"),
        (b"[1, 2]", "invalid_body"),
    ],
)
def test_bad_bodies_get_a_400_with_a_code(body: bytes, code: str) -> None:
    with pytest.raises(InputError) as caught:
        json_object(body)
    assert (caught.value.status, caught.value.code) == (400, code)
    assert caught.value.message


@pytest.mark.parametrize(
    "payload",
    [
        {"a": "\\u0000", "b": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["},
        {"emoji": "\U0001f600", "n": MAX_INTEGER, "m": -MAX_INTEGER, "x": 1.5e300},
        {"text": "line\nand\ttab"},
    ],
)
def test_ordinary_bodies_read_back_unchanged(payload: dict) -> None:
    assert json_object(json.dumps(payload).encode()) == payload
    assert json_object(json.dumps(payload, ensure_ascii=False).encode()) == payload
