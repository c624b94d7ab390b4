"""One error shape for the whole API: `{"error": {"code", "message"}}` with a proper status."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web
from sqlalchemy.exc import OperationalError

from bot.crm.store import Conflict, InvalidCursor, NotFound
from bot.json_input import HttpError, error_body

logger = logging.getLogger(__name__)


class ApiError(HttpError):
    """Raised by handlers; the middleware turns it into the JSON error shape (plus `headers`)."""

    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(status, code, message)
        self.headers = dict(headers or {})


def error_json(status: int, code: str, message: str) -> web.Response:
    return web.json_response(error_body(code, message), status=status)


HTTP_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
}


@web.middleware
async def error_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        return await handler(request)
    except HttpError as error:
        response = error_json(error.status, error.code, error.message)
        if isinstance(error, ApiError):
            response.headers.update(error.headers)
        return response
    # The store's refusals are answered here, so handlers call the store without translating.
    except NotFound as error:
        return error_json(404, "not_found", str(error))
    except Conflict as error:
        return error_json(409, "conflict", str(error))
    except InvalidCursor as error:
        return error_json(400, "invalid_parameter", str(error))
    except OperationalError:
        logger.warning("the CRM store did not answer %s %s", request.method, request.path)
        return error_json(
            503,
            "store_unavailable",
            "The CRM store is busy or down; nothing was changed. Please try again shortly.",
        )
    except web.HTTPException as error:
        if error.status < 400:
            raise
        return error_json(error.status, HTTP_CODES.get(error.status, "http_error"), error.reason)
    except Exception:
        logger.exception("unhandled error on %s %s", request.method, request.path)
        return error_json(500, "internal_error", "Something went wrong on our side.")
