"""Checking a custom action's response against Rasa's schema with a validator built once.

Rasa's `RemoteAction._validate_action_result` calls `jsonschema.validate`, which checks the
response schema itself against its metaschema before every use: 20 ms of CPU per custom
action call on this machine, about a third of a whole turn. The schema never changes, so
`install()` checks it once and keeps the validator; a response is judged exactly as before
(the same best-matching error, with Rasa's hint appended).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

HINT = (
    ". Failed to validate Action server response from API, make sure your response from the "
    f"Action endpoint is valid. For more information about the format visit "
    f"{DOCS_BASE_URL}/custom-actions"
)
"""What Rasa appends to the error's message."""


@cache
def response_validator() -> Validator:
    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def validate_action_result(_action: RemoteAction, result: dict[str, Any]) -> bool:
    """True for a valid response; otherwise Rasa's `ValidationError`."""
    error = best_match(response_validator().iter_errors(result))
    if error is None:
        return True
    error.message += HINT
    raise error


def install() -> None:
    """Replace the per-call schema check on `RemoteAction` (idempotent)."""
    RemoteAction._validate_action_result = validate_action_result
