"""`rasa data validate` finds nothing but the responses that forms and actions send themselves.

Rasa's validator counts a response as used only when a story or rule names it, so the
questions a form asks and the responses custom actions send (any response name quoted in
`actions/`) always raise "not used"
warnings. This test pins those warnings to exactly that set: any other warning (a typo in
a response name, a really unused response, a story conflict) fails it.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import yaml
from rasa.cli.utils import validate_files
from rasa.shared.importers.importer import TrainingDataImporter
from rasa.utils.common import EXPECTED_WARNINGS

from bot.settings import PROJECT_ROOT

UNUSED = re.compile(r"The utterance '(\w+)' is not used in any story or rule\.")
RESPONSE_IN_ACTIONS = re.compile(r"[\"'](utter_\w+)[\"']")
RESPONSE_IN_DATA = re.compile(r"action: (utter_\w+)")


def responses_sent_outside_stories() -> set[str]:
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())
    form_slots = {slot for form in domain["forms"].values() for slot in form["required_slots"]}
    from_actions = {
        name
        for path in (PROJECT_ROOT / "actions").glob("*.py")
        for name in RESPONSE_IN_ACTIONS.findall(Path(path).read_text())
    }
    return {f"utter_ask_{slot}" for slot in form_slots} | from_actions


def test_validation_passes_with_only_the_expected_warnings() -> None:
    importer = TrainingDataImporter.load_from_config(
        str(PROJECT_ROOT / "config.yml"),
        str(PROJECT_ROOT / "domain.yml"),
        [str(PROJECT_ROOT / "data")],
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        validate_files(fail_on_warnings=False, max_history=None, importer=importer)
    messages = [
        str(warning.message)
        for warning in caught
        if "rasa" in warning.filename
        and not any(
            issubclass(warning.category, category) and re.match(pattern, str(warning.message))
            for category, pattern in EXPECTED_WARNINGS
        )
    ]
    unused = {match.group(1) for m in messages if (match := UNUSED.fullmatch(m))}
    others = [m for m in messages if not UNUSED.fullmatch(m)]
    assert others == []
    named_in_data = {
        name
        for path in (PROJECT_ROOT / "data").rglob("*.yml")
        for name in RESPONSE_IN_DATA.findall(path.read_text())
    }
    assert unused == responses_sent_outside_stories() - named_in_data
    domain_responses = set(yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())["responses"])
    assert responses_sent_outside_stories() <= domain_responses
