"""Settings read once from the environment, so every process agrees on ports, URLs and keys."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    database_url: str
    tracker_url: str
    bind: str
    rasa_port: int
    action_port: int
    console_port: int
    var_dir: Path
    secret_key: str
    admin_password: str | None
    redis_url: str | None

    @property
    def rasa_url(self) -> str:
        return f"http://{self.bind}:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://{self.bind}:{self.action_port}"

    @property
    def console_url(self) -> str:
        return f"http://{self.bind}:{self.console_port}"

    @property
    def rasa_api_token(self) -> str:
        """Token for Rasa's HTTP API, derived from the secret so every process agrees."""
        return hmac.new(self.secret_key.encode(), b"rasa-http-api", hashlib.sha256).hexdigest()

    @property
    def similar_index_dir(self) -> Path:
        return self.var_dir / "similar-index"


def _port(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name, str(default))
    try:
        port = int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a port number, got {raw!r}") from None
    if not 0 < port < 65536:
        raise SystemExit(f"{name} must be between 1 and 65535, got {port}")
    return port


def _secret_key(env: dict[str, str], var_dir: Path) -> str:
    """Use CRM_SECRET_KEY, else a random key kept in var/ so restarts keep sessions valid."""
    if env.get("CRM_SECRET_KEY"):
        return env["CRM_SECRET_KEY"]
    key_file = var_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    var_dir = Path(env.get("CRM_VAR_DIR", PROJECT_ROOT / "var"))
    database_url = env.get("CRM_DATABASE_URL", f"sqlite:///{var_dir / 'crm.sqlite3'}")
    return Settings(
        database_url=database_url,
        tracker_url=env.get("RASA_TRACKER_URL", database_url),
        bind=env.get("CRM_BIND", "127.0.0.1"),
        rasa_port=_port(env, "RASA_PORT", 5005),
        action_port=_port(env, "ACTION_PORT", 5055),
        console_port=_port(env, "CONSOLE_PORT", 8080),
        var_dir=var_dir,
        secret_key=_secret_key(env, var_dir),
        admin_password=env.get("CRM_ADMIN_PASSWORD") or None,
        redis_url=env.get("CRM_REDIS_URL") or None,
    )
