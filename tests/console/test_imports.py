"""The console process runs without Rasa: it must not load rasa, rasa_sdk or sanic."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECK = (
    "import json, sys; import bot.console.app; "
    "print(json.dumps(sorted({name.split('.')[0] for name in sys.modules})))"
)


def test_the_console_imports_no_rasa_and_no_sanic() -> None:
    loaded = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    top_level = set(json.loads(loaded.splitlines()[-1]))
    assert "bot" in top_level
    assert not top_level & {"rasa", "rasa_sdk", "sanic"}
