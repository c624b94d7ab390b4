"""Settings read once from the environment, so every process agrees on ports, URLs and keys."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from enum import Enum
from functools import cached_property
from pathlib import Path

from analytics.business_hours import DEFAULT_BUSINESS_HOURS, BusinessHours

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class KeyPurpose(Enum):
    """What a derived key signs; each purpose gets its own key (`Settings.key_for`)."""

    CUSTOMER_TOKEN = "customer-token"
    CUSTOMER_CLAIM = "customer-claim"
    SOCKET_SESSION = "socket-session"
    AGENT_MESSAGE = "agent-message"
    ACTION_SERVER = "action-server"


DEFAULT_RETENTION_DAYS = 730


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
    amqp_url: str | None
    """RabbitMQ (`CRM_AMQP_URL`): when set, the outboxes relay the CRM's writes through it and
    `crm drain` writes them to the CRM store; unset, each outbox writes to the store itself."""
    allowed_origins: tuple[str, ...]
    """Browser origins allowed to call Rasa and open socket.io (CORS); the console's own first."""
    demo_site: bool
    """Serve the demo bank page with a token for demo customer 1 (`CRM_DEMO_SITE=1`)."""
    job_schedule: tuple[tuple[str, str], ...] = ()
    """When the console runs each batch job: `(name, crontab in UTC or "every N s|m|h")`
    pairs from `CRM_JOB_SCHEDULE`; empty when it is `off`."""
    segment_method: str = "kmeans"
    """How the segmentation job clusters customers: kmeans, dbscan or hdbscan
    (`CRM_SEGMENT_METHOD`)."""
    business_hours: str = DEFAULT_BUSINESS_HOURS
    """When the team works, for the business-hours response and handling times:
    `DAYS HH:MM-HH:MM ZONE` (`CRM_BUSINESS_HOURS`), checked when the settings load."""
    amqp_queue: str = "crm_events"
    """The durable RabbitMQ queue the outboxes publish to (`CRM_AMQP_QUEUE`)."""
    rasa_workers: int = 1
    """Rasa server processes on the one port (`CRM_RASA_WORKERS`); more than one needs Redis,
    which carries their turn locks, socket.io rooms, rate limits and model loads. Default: one
    a core (at most MAX_DEFAULT_WORKERS) with Redis, else one."""
    retention_days: int = DEFAULT_RETENTION_DAYS
    """The `retention` job deletes conversations that ended longer ago than this, everywhere
    (`CRM_RETENTION_DAYS`, a positive whole number of days)."""

    @property
    def rasa_url(self) -> str:
        return f"http://{self.bind}:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://{self.bind}:{self.action_port}"

    @property
    def console_url(self) -> str:
        return f"http://{self.bind}:{self.console_port}"

    @cached_property
    def rasa_api_token(self) -> str:
        """Secret for Rasa's HTTP API (it signs the console's JWTs), kept in var/rasa_api_token.

        Random and not derived from the master secret, so neither leaks the other; read from
        a file by the Rasa launcher and the console, never passed on a command line.
        """
        return _kept_secret(self.var_dir / "rasa_api_token")

    def key_for(self, purpose: KeyPurpose) -> str:
        """A key for one purpose only, derived from the master secret (HMAC-SHA256).

        A key leaked or misused for one purpose (a token, a signature) is useless for another.
        """
        derived = hmac.new(self.secret_key.encode(), purpose.value.encode(), hashlib.sha256)
        return derived.hexdigest()

    @property
    def similar_index_dir(self) -> Path:
        return self.var_dir / "similar-index"

    @property
    def outbox_dir(self) -> Path:
        """One durable outbox file per Rasa server (named after its port) lives here."""
        return self.var_dir / "outbox"


def _port(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name, str(default))
    try:
        port = int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a port number, got {raw!r}") from None
    if not 0 < port < 65536:
        raise SystemExit(f"{name} must be between 1 and 65535, got {port}")
    return port


def _kept_secret(path: Path) -> str:
    """A random secret kept in `path` (mode 0600), created once.

    Processes starting together agree: the secret is written to a private temporary file
    and linked into place, which fails if another process got there first.
    """
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    try:
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return path.read_text().strip()


def _private_dir(path: Path) -> None:
    """Make `path` (var/) readable by its owner only: it holds the keys and the SQLite CRM.

    A folder made before this rule, and still ours, is narrowed too; one owned by someone
    else is left as it is.
    """
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_uid == os.getuid():
        path.chmod(0o700)


def _secret_key(env: dict[str, str], var_dir: Path) -> str:
    """Use CRM_SECRET_KEY, else a random key kept in var/ so restarts keep sessions valid."""
    _private_dir(var_dir)
    return env.get("CRM_SECRET_KEY") or _kept_secret(var_dir / "secret_key")


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    var_dir = Path(env.get("CRM_VAR_DIR", PROJECT_ROOT / "var"))
    database_url = env.get("CRM_DATABASE_URL", f"sqlite:///{var_dir / 'crm.sqlite3'}")
    tracker_url = env.get("RASA_TRACKER_URL") or _default_tracker_url(database_url, var_dir)
    console_port = _port(env, "CONSOLE_PORT", 8080)
    redis_url = env.get("CRM_REDIS_URL") or None
    return Settings(
        database_url=database_url,
        tracker_url=tracker_url,
        bind=env.get("CRM_BIND", "127.0.0.1"),
        rasa_port=_port(env, "RASA_PORT", 5005),
        action_port=_port(env, "ACTION_PORT", 5055),
        console_port=console_port,
        var_dir=var_dir,
        secret_key=_secret_key(env, var_dir),
        admin_password=env.get("CRM_ADMIN_PASSWORD") or None,
        redis_url=redis_url,
        rasa_workers=_rasa_workers(env, redis_url),
        amqp_url=env.get("CRM_AMQP_URL") or None,
        amqp_queue=env.get("CRM_AMQP_QUEUE", "").strip() or "crm_events",
        allowed_origins=_origins(env, console_port),
        demo_site=_flag(env, "CRM_DEMO_SITE"),
        job_schedule=_job_schedule(env),
        segment_method=_choice(env, "CRM_SEGMENT_METHOD", SEGMENT_METHODS),
        business_hours=_business_hours(env),
        retention_days=_positive_int(env, "CRM_RETENTION_DAYS", DEFAULT_RETENTION_DAYS),
    )


def _default_tracker_url(database_url: str, var_dir: Path) -> str:
    """Rasa's tracker store: the CRM's database, except that a SQLite CRM gets a file of its own.

    A SQLite file has one writer at a time; sharing it would let a long CRM write (a batch
    job, a locked file) freeze every conversation, which the outbox exists to prevent.
    """
    if database_url.startswith("sqlite"):
        return f"sqlite:///{var_dir / 'tracker.sqlite3'}"
    return database_url


MAX_DEFAULT_WORKERS = 4
"""Each Rasa process holds the model and both encoders (about 1.2 GB): a big machine gets four
unless CRM_RASA_WORKERS asks for more."""


def _rasa_workers(env: dict[str, str], redis_url: str | None) -> int:
    """Every core when Redis can coordinate the processes; one process cannot use two."""
    default = min(os.cpu_count() or 1, MAX_DEFAULT_WORKERS) if redis_url else 1
    workers = _positive_int(env, "CRM_RASA_WORKERS", default)
    if workers > 1 and not redis_url:
        raise SystemExit(
            f"CRM_RASA_WORKERS={workers} needs CRM_REDIS_URL: several Rasa processes share "
            "their turn locks, socket.io rooms and rate limits through Redis"
        )
    return workers


def _positive_int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise SystemExit(f"{name} must be a positive whole number, not {raw!r}")
    return int(raw)


def _business_hours(env: dict[str, str]) -> str:
    raw = env.get("CRM_BUSINESS_HOURS", "").strip() or DEFAULT_BUSINESS_HOURS
    try:
        BusinessHours.parse(raw)
    except ValueError as error:
        raise SystemExit(f"CRM_BUSINESS_HOURS: {error}") from None
    return raw


SEGMENT_METHODS = ("kmeans", "dbscan", "hdbscan")


def _choice(env: dict[str, str], name: str, choices: tuple[str, ...]) -> str:
    """One of `choices` (the first by default), read case-insensitively."""
    raw = env.get(name, "").strip().lower() or choices[0]
    if raw not in choices:
        raise SystemExit(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
    return raw


DEFAULT_JOB_SCHEDULE = (
    "cleaning=0 2 * * *;segmentation=30 2 * * *;risk=0 3 * * *;channel=15 3 * * *;"
    "rules=30 3 * * *;strategies=0 4 * * *;reindex=30 4 * * *;topics=45 4 * * *;"
    "analytics=*/10 * * * *;retrain=30 5 * * *;retention=0 6 * * *"
)
"""Nightly in the registry's order, spaced so each job has finished before the next needs it;
`analytics` every ten minutes, so quality flags for a missed SLA or a handoff left waiting
appear without anyone opening the dashboard."""


def _job_schedule(env: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """`CRM_JOB_SCHEDULE`: `name=SPEC` entries separated by `;`; `off` schedules nothing.

    Only the form is checked here; the console checks the names and specs when it starts.
    """
    raw = env.get("CRM_JOB_SCHEDULE", "").strip() or DEFAULT_JOB_SCHEDULE
    if raw.lower() == "off":
        return ()
    entries: dict[str, str] = {}
    for entry in filter(None, (part.strip() for part in raw.split(";"))):
        name, _, spec = (part.strip() for part in entry.partition("="))
        if not name or not spec:
            raise SystemExit(f"CRM_JOB_SCHEDULE: {entry!r} is not like 'cleaning=0 2 * * *'")
        if name in entries:
            raise SystemExit(f"CRM_JOB_SCHEDULE: {name!r} is scheduled twice")
        entries[name] = spec
    return tuple(entries.items())


def _flag(env: dict[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise SystemExit(f"{name} must be 1 or 0, got {raw!r}")


def _origins(env: dict[str, str], console_port: int) -> tuple[str, ...]:
    """`CRM_ALLOWED_ORIGINS` (comma-separated), else the console's own origins on this machine."""
    raw = env.get("CRM_ALLOWED_ORIGINS")
    if raw is None:
        return (f"http://127.0.0.1:{console_port}", f"http://localhost:{console_port}")
    origins = tuple(origin.strip().rstrip("/") for origin in raw.split(",") if origin.strip())
    for origin in origins:
        if not origin.startswith(("http://", "https://")) or origin.count("/") != 2:
            raise SystemExit(f"CRM_ALLOWED_ORIGINS: {origin!r} is not an origin like https://host")
    return origins
