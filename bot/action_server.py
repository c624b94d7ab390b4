"""`python -m bot.action_server`: rasa_sdk's action server, answering only Rasa.

Any local process or web page could otherwise run actions (block a card, open a handoff)
with a plain POST. Rasa sends the action-server key (`key_for(ACTION_SERVER)`, from
var/endpoints.yml) in `X-CRM-Action-Key`; every other request except `/health` is refused.
No browser calls this server, so it allows no CORS origin.
"""

from __future__ import annotations

import hmac

from rasa_sdk import utils
from rasa_sdk.endpoint import create_app
from rasa_sdk.plugin import plugin_manager
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.endpoints import ACTION_KEY_HEADER
from bot.json_input import error_body
from bot.settings import KeyPurpose, Settings, load_settings

ACTIONS_PACKAGE = "actions"
OPEN_PATHS = frozenset({"/health"})


def build_app(settings: Settings) -> Sanic:
    app = create_app(ACTIONS_PACKAGE, cors_origins=None)
    expected = settings.key_for(KeyPurpose.ACTION_SERVER).encode()

    async def require_key(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS:
            return None
        # Sanic keeps undecodable header bytes as lone surrogates: give them back as bytes.
        given = request.headers.get(ACTION_KEY_HEADER, "").encode(errors="surrogateescape")
        if hmac.compare_digest(given, expected):
            return None
        message = f"Only Rasa may call the action server (missing or wrong {ACTION_KEY_HEADER})."
        return response.json(error_body("unauthorized", message), status=401)

    app.register_middleware(require_key, "request")
    return app


def main() -> None:
    utils.configure_colored_logging(None)
    utils.update_sanic_log_level()
    settings = load_settings()
    app = build_app(settings)
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    app.run(settings.bind, settings.action_port, workers=utils.number_of_sanic_workers())


if __name__ == "__main__":
    main()
