"""`crm run` starts our own entries, and nothing secret goes on their command lines."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.runner import service_commands
from bot.settings import KeyPurpose, load_settings


def test_the_services_are_started_through_our_entries_without_secrets(tmp_path) -> None:
    settings = load_settings({"CRM_VAR_DIR": str(tmp_path), "CRM_SECRET_KEY": "master"})
    model, endpoints = Path("models/m.tar.gz"), tmp_path / "endpoints.yml"

    commands = service_commands(model, endpoints)

    assert commands == {
        "actions": [sys.executable, "-m", "bot.action_server"],
        "rasa": [
            sys.executable,
            "-m",
            "bot.rasa_server",
            "--model",
            str(model),
            "--endpoints",
            str(endpoints),
        ],
        "console": [sys.executable, "-m", "bot.console"],
    }
    secrets = [settings.secret_key, settings.rasa_api_token]
    secrets += [settings.key_for(purpose) for purpose in KeyPurpose]
    arguments = " ".join(" ".join(command) for command in commands.values())
    assert not [secret for secret in secrets if secret in arguments]
