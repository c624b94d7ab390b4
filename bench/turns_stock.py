"""The stock Rasa project as a baseline: `rasa init` with the same virtualenv's Rasa, served plain.

A stock project is what Rasa itself costs per turn on this machine: its REST channel, an
in-memory tracker store and lock store, no action server (its endpoints.yml names none), no
CRM. Whatever the product costs on top of that is the product's own. The project is made and
trained once and cached (training takes minutes), then reused while its model exists.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.product import free_port, stop_group

CACHE = Path.home() / ".cache" / "northwind-crm" / "bench" / "stock-rasa-init"
INIT_TIMEOUT_S = 1800
START_TIMEOUT_S = 300
PROGRESS_EVERY_S = 10.0
SOCKETIO_BLOCK = """
socketio:
  user_message_evt: user_uttered
  bot_message_evt: bot_uttered
  session_persistence: false
"""


def rasa_bin() -> Path:
    """The `rasa` entry point of the virtualenv running this bench (same Rasa as the product)."""
    return Path(sys.executable).with_name("rasa")


def rasa_version() -> str:
    from rasa.version import __version__

    return __version__


def stock_model(project: Path) -> Path | None:
    """The newest model of the stock project, or None when it has none yet."""
    models = sorted((project / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


def ensure_stock_project(project: Path = CACHE) -> Path:
    """The cached stock project with a trained model; `rasa init --no-prompt` makes it if not.

    `rasa init` trains as it creates; its output goes to the terminal (and to init.log) so a
    run that trains shows progress. An unfinished earlier attempt is removed first.
    """
    if stock_model(project) is not None:
        print(f"stock project: reusing {stock_model(project)}", flush=True)
        return project
    if project.exists():
        shutil.rmtree(project)
    project.mkdir(parents=True)
    print(f"stock project: rasa init --no-prompt --init-dir {project} (trains a model)", flush=True)
    log = project.parent / "init.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [str(rasa_bin()), "init", "--no-prompt", "--init-dir", str(project)],
            cwd=project,
            env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert process.stdout is not None
        deadline = time.monotonic() + INIT_TIMEOUT_S
        shown = 0.0
        for line in process.stdout:  # text mode: a progress bar's \r also ends a line
            out.write(line)
            now = time.monotonic()
            if line.strip() and ("Epochs" not in line or now - shown > PROGRESS_EVERY_S):
                shown = now if "Epochs" in line else shown
                print(f"  rasa init: {line.rstrip()[:160]}", flush=True)
            if now > deadline:
                process.kill()
                break
        process.wait()
    if process.returncode != 0 or stock_model(project) is None:
        raise RuntimeError(f"rasa init failed (exit {process.returncode}); see {log}")
    return project


@dataclass
class Stock:
    """A running stock Rasa server: its REST channel's base URL and its process id."""

    rasa_url: str
    pid: int
    log: Path


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/webhooks/rest/", timeout=5) as reply:
            return reply.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def with_socketio(project: Path, out: Path) -> Path:
    """The stock credentials.yml plus Rasa's own socket.io channel (the block `rasa init`
    leaves commented out, uncommented), for a run that compares the socket.io channels."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text((project / "credentials.yml").read_text() + SOCKETIO_BLOCK)
    return out


@contextmanager
def served(project: Path, log: Path, credentials: Path | None = None) -> Iterator[Stock]:
    """`rasa run -m DIR/models --port P --credentials DIR/credentials.yml` until the block ends."""
    port = free_port()
    log.parent.mkdir(parents=True, exist_ok=True)
    command = [str(rasa_bin()), "run", "-m", str(project / "models"), "--port", str(port)]
    command += ["--credentials", str(credentials or project / "credentials.yml")]
    with open(log, "w") as out:
        process = subprocess.Popen(
            command,
            cwd=project,
            env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _ready(url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the stock Rasa server did not start; see {log}")
            time.sleep(1)
        yield Stock(url, process.pid, log)
    finally:
        stop_group(process)
