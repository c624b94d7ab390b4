"""`python -m bot.console`: serve the console on CONSOLE_PORT."""

import logging

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from bot.console.app import init_app
from bot.settings import load_settings


class PathOnlyAccessLogger(AbstractAccessLogger):
    """Logs the path without the query string: the agents' websocket carries its token there."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            '%s "%s %s" %s %.3fs',
            request.remote,
            request.method,
            request.path,
            response.status,
            time,
        )


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s console %(levelname)s %(message)s")
    settings = load_settings()
    web.run_app(
        init_app(settings),
        host=settings.bind,
        port=settings.console_port,
        print=None,
        access_log_class=PathOnlyAccessLogger,
    )


if __name__ == "__main__":
    main()
