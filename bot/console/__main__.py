"""`python -m bot.console`: serve the console on CONSOLE_PORT."""

import logging

from aiohttp import web

from bot.console.app import init_app
from bot.settings import load_settings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s console %(levelname)s %(message)s")
    settings = load_settings()
    web.run_app(init_app(settings), host=settings.bind, port=settings.console_port, print=None)


if __name__ == "__main__":
    main()
