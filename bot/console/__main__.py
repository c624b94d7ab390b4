"""`python -m bot.console`: serve the console on CONSOLE_PORT."""

import logging

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from bot.console.app import init_app
from bot.settings import load_settings


def printable(text: str) -> str:
    """`text` with every unprintable character escaped, so one request is one log line."""
    return "".join(char if char.isprintable() else ascii(char)[1:-1] for char in text)


class PathOnlyAccessLogger(AbstractAccessLogger):
    """Logs the path as sent, without the query string (the live websocket's ticket is there).

    The raw path, not the decoded one: `%0A` stays as sent and cannot start a forged line.
    """

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            '%s "%s %s" %s %.3fs',
            request.remote,
            printable(request.method),
            printable(request.raw_path.partition("?")[0]),
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
