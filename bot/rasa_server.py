"""`python -m bot.rasa_server`: Rasa's server, started as `rasa run` would, with the CRM's guards.

`crm run` starts this instead of `rasa run` so that:
- the HTTP API secret never appears on a command line or in a URL: it is read from
  var/rasa_api_token and the API accepts only JWTs signed with it (`Authorization: Bearer`);
- only the routes the CRM uses are served: the customer channels, socket.io, the health
  probe, the console's two API calls and `PUT /model`, by which the retrain job loads a
  model it trained. Loading a model runs its code, so that route takes only a model file
  in the folder of the model the server started with (models/, which only our training
  writes); training and the other API routes answer 404 even with a valid JWT;
- CORS follows `CRM_ALLOWED_ORIGINS`, every response carries security headers and request
  bodies are bounded;
- it does not start without its event broker: Rasa itself only warns when the broker cannot
  be loaded and then runs recording nothing for the CRM.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path

import jwt
import rasa.utils.io
import rasa.utils.tensorflow.environment as tf_env
from rasa.constants import ENV_SANIC_BACKLOG
from rasa.core.brokers.broker import EventBroker
from rasa.core.run import (
    close_resources,
    configure_app,
    create_http_input_channels,
    load_agent_on_start,
)
from rasa.core.utils import AvailableEndpoints
from rasa.utils.common import configure_logging_and_warnings, update_sanic_log_level
from rasa.utils.log_utils import configure_structlog
from sanic import Sanic, response
from sanic.exceptions import PayloadTooLarge
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.console.rasa_client import API_JWT_ALGORITHM
from bot.json_input import error_body
from bot.outbox.local import release_shared_outboxes
from bot.rasa_plugins.action_failure import install as answer_failed_actions
from bot.rasa_plugins.action_validation import install as validate_actions_with_one_validator
from bot.rasa_plugins.applied_events import install as keep_applied_events
from bot.rasa_plugins.dialogue_states import install as keep_dialogue_states
from bot.rasa_plugins.graph_runner import install as run_graphs_in_order
from bot.rasa_plugins.model_sync import install as load_models_in_every_worker
from bot.settings import PROJECT_ROOT, Settings, load_settings

CREDENTIALS = PROJECT_ROOT / "credentials.yml"
MAX_BODY_BYTES = 64 * 1024
"""Far above the channels' own message limit, so they answer oversize messages themselves."""
CHANNEL_PREFIXES = ("/webhooks/", "/socket.io/")
API_ROUTES = re.compile(r"/conversations/[^/]+/(?:tracker/events|trigger_intent)|/model/parse")
"""The console's calls (bot/console/rasa_client.py; the conversation id is percent-encoded) and
the retrain job's question of what the running model makes of a labelled message."""
MODEL_ROUTE = ("PUT", "/model")
"""The retrain job's call (bot/jobs/retrain.py): `{"model_file": <path>}`, nothing else."""
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Cache-Control": "no-store",
}


def served(method: str, path: str) -> bool:
    """Whether Rasa answers this route: `/` (health), the channels, the console's calls."""
    if path == "/" or path.startswith(CHANNEL_PREFIXES) or (method, path) == MODEL_ROUTE:
        return True
    return method == "POST" and API_ROUTES.fullmatch(path) is not None


async def refuse_unused_routes(request: Request) -> HTTPResponse | None:
    if served(request.method, request.path):
        return None
    return response.json(error_body("not_found", "No such route."), status=404)


def loadable(body: object, models_dir: Path) -> bool:
    """Whether a `PUT /model` body names only a model file in `models_dir` (no model server,
    no remote storage: Rasa would fetch and run those)."""
    if not isinstance(body, dict) or set(body) != {"model_file"}:
        return False
    path = body["model_file"]
    if not isinstance(path, str) or not path.endswith(".tar.gz"):
        return False
    return Path(path).resolve().parent == models_dir.resolve()


async def authenticated(request: Request) -> bool:
    """Whether the request carries a JWT Rasa accepts (as its `requires_auth` checks it)."""
    try:
        return bool(await request.app.ctx.auth.is_authenticated(request))
    except jwt.PyJWTError:
        return False


def refuse_foreign_models(models_dir: Path) -> Callable[[Request], Awaitable[HTTPResponse | None]]:
    """Middleware, so it runs before Rasa's handler: that handler would load the model. It
    judges only authenticated requests; the others go on to Rasa's own 401, so a caller
    without the secret learns nothing and its body is never parsed."""

    async def guard(request: Request) -> HTTPResponse | None:
        if (request.method, request.path) != MODEL_ROUTE or not await authenticated(request):
            return None
        if loadable(request.json, models_dir):
            return None
        message = f'Send {{"model_file": <path>}} naming a model in {models_dir.name}/.'
        return response.json(error_body("invalid_model", message), status=400)

    return guard


async def add_security_headers(request: Request, reply: HTTPResponse | None) -> None:
    if reply is not None:
        reply.headers.update(SECURITY_HEADERS)


async def payload_too_large(request: Request, exception: Exception) -> HTTPResponse:
    message = f"The request body is larger than {MAX_BODY_BYTES} bytes."
    return response.json(error_body("payload_too_large", message), status=413)


async def jwt_refused(request: Request, exception: Exception) -> HTTPResponse:
    """Any JWT Rasa cannot verify is no credential: sanic-jwt lets some errors (an `alg: none`
    token's InvalidAlgorithmError) escape Rasa's `requires_auth` as a 500."""
    message = "The request carries no valid credential."
    return response.json(error_body("unauthorized", message), status=401)


def build_app(settings: Settings, model: Path, endpoints: AvailableEndpoints) -> Sanic:
    """Rasa's app as `rasa run --enable-api` configures it, plus the guards above."""
    answer_failed_actions()
    validate_actions_with_one_validator()
    keep_applied_events()
    keep_dialogue_states()
    run_graphs_in_order()
    app = configure_app(
        create_http_input_channels(None, str(CREDENTIALS)),
        cors=list(settings.allowed_origins),
        enable_api=True,
        jwt_secret=settings.rasa_api_token,
        jwt_method=API_JWT_ALGORITHM,
        port=settings.rasa_port,
        endpoints=endpoints,
    )
    app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES
    app.error_handler.add(PayloadTooLarge, payload_too_large)
    app.error_handler.add(jwt.PyJWTError, jwt_refused)
    app.register_middleware(refuse_unused_routes, "request")
    app.register_middleware(refuse_foreign_models(model.parent), "request")
    app.register_middleware(add_security_headers, "response")
    if settings.redis_url:  # several workers or servers: `PUT /model` reaches them all
        load_models_in_every_worker(app, settings.redis_url, endpoints, model.parent, loadable)
    app.register_listener(
        partial(load_agent_on_start, str(model), endpoints, None), "before_server_start"
    )
    app.register_listener(close_resources, "after_server_stop")
    return app


class BrokerUnavailable(SystemExit):
    """The server stops with this message (and a non-zero status) before serving anyone."""


async def _open_and_close_broker(endpoints: AvailableEndpoints) -> None:
    broker = await EventBroker.create(endpoints.event_broker)
    if broker is None:
        raise BrokerUnavailable(
            f"error: the event broker {endpoints.event_broker.type!r} could not be loaded "
            "(see the warning above); nothing would reach the CRM, so Rasa does not start"
        )
    try:
        await broker.close()
    finally:
        release_shared_outboxes()


def check_event_broker(endpoints: AvailableEndpoints) -> None:
    """Create the configured event broker once, as Rasa will, and fail loudly if it cannot
    be: no broker configured, its class not importable, or its creation raising."""
    if endpoints.event_broker is None:
        raise BrokerUnavailable("error: the endpoints file configures no event_broker")
    try:
        asyncio.run(_open_and_close_broker(endpoints))
    except BrokerUnavailable:
        raise
    except Exception as error:
        raise BrokerUnavailable(
            f"error: the event broker could not be created: {type(error).__name__}: {error}"
        ) from error


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.rasa_server", description=__doc__)
    parser.add_argument("--model", type=Path, required=True, help="the trained model (.tar.gz)")
    parser.add_argument("--endpoints", type=Path, required=True, help="var/endpoints.yml")
    args = parser.parse_args(argv)

    configure_logging_and_warnings(warn_only_once=True, filter_repeated_logs=True)
    tf_env.setup_tf_environment()
    rasa.utils.io.configure_colored_logging(None)
    configure_structlog()
    settings = load_settings()
    endpoints = AvailableEndpoints.read_endpoints(str(args.endpoints))
    check_event_broker(endpoints)
    app = build_app(settings, args.model, endpoints)
    update_sanic_log_level()
    app.run(
        host=settings.bind,
        port=settings.rasa_port,
        backlog=int(os.environ.get(ENV_SANIC_BACKLOG, "100")),
        workers=settings.rasa_workers,
    )


if __name__ == "__main__":
    main()
