"""A custom action's response is judged as Rasa's own `jsonschema.validate` judges it."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from bot.rasa_plugins.action_validation import HINT, install

RESPONSES: list[dict[str, Any]] = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "topic", "value": "x"}], "responses": [{"text": "hi"}]},
    {},
    {"events": "not a list"},
    {"events": [{"no_event_key": 1}]},
    {"responses": [{"text": "x"}], "events": [{"event": "slot"}], "extra": 3},
]


@pytest.mark.parametrize("result", RESPONSES)
def test_a_response_gets_rasas_verdict(result: dict[str, Any]) -> None:
    install()
    action = RemoteAction("action_anything", None)
    schema = RemoteAction.action_response_format_spec()
    try:
        jsonschema.validate(result, schema)
    except jsonschema.ValidationError as expected:
        with pytest.raises(jsonschema.ValidationError) as raised:
            action._validate_action_result(result)
        assert raised.value.message == expected.message + HINT
        assert list(raised.value.path) == list(expected.path)
    else:
        assert action._validate_action_result(result) is True
