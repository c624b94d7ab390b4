"""CSV downloads of the supervisors' tables: `?format=csv` on an analytics or review list.

Every table is a list of records; nested values are flattened into columns (`a.b`), lists of
plain values joined with "; ". Spreadsheets run a cell that starts with = + - @ (or a tab or
carriage return before one) as a formula, and customer text reaches these files, so such text
cells get a leading apostrophe (OWASP's CSV injection advice). Numbers are left as numbers.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from aiohttp import web

from bot.console.errors import ApiError

Row = TypeVar("Row")
EXPORT_PAGE = 200
"""Rows fetched per page while a download collects a paged list (the API's largest page)."""
MAX_EXPORT_ROWS = 200_000
"""A download holds every row of its table, up to this many (a year of a busy bank's
conversations); past it the caller is asked to narrow the range rather than get a cut file."""
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMATS = ("json", "csv")
LIST_SEPARATOR = "; "


def wants_csv(request: web.Request) -> bool:
    """Whether the caller asked for CSV (`?format=csv`); JSON is the default."""
    requested = request.query.get("format", "json")
    if requested not in FORMATS:
        raise ApiError(400, "invalid_parameter", f"'format' must be one of {', '.join(FORMATS)}.")
    return requested == "csv"


def every_page(
    fetch: Callable[..., tuple[list[Row], str | None]],
) -> tuple[list[Row], None]:
    """Every row of a paged list (`fetch(cursor=...) -> (rows, next_cursor)`), shaped like one
    last page: a download is the whole table, never silently its first page."""
    rows, cursor = fetch(cursor=None)
    while cursor is not None:
        if len(rows) > MAX_EXPORT_ROWS:
            raise ApiError(
                400,
                "export_too_large",
                f"More than {MAX_EXPORT_ROWS} rows: narrow the date range or the filters.",
            )
        page, cursor = fetch(cursor=cursor)
        rows.extend(page)
    return rows, None


def cell(value: Any) -> str | int | float:
    """One value as a spreadsheet cell that a spreadsheet cannot run."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return value
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def flatten(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """A record's nested objects as dotted columns; a list of plain values as one joined cell
    and any other list as JSON text."""
    flat: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        elif isinstance(value, list) and all(isinstance(item, (str, int, float)) for item in value):
            flat[name] = LIST_SEPARATOR.join(str(item) for item in value)
        else:
            flat[name] = value
    return flat


def table(records: Iterable[Mapping[str, Any]]) -> tuple[list[str], list[dict[str, Any]]]:
    """The records flattened, and every column any of them has, in order of appearance."""
    rows = [flatten(record) for record in records]
    columns = list(dict.fromkeys(column for row in rows for column in row))
    return columns, rows


def summary_rows(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A summary as (metric, value) rows; each entry of a list in it (intents, handoff
    reasons: `{"intent", "count"}`) is a row of its own, named `<list>.<its first value>`."""
    rows: list[dict[str, Any]] = []
    for metric, value in summary.items():
        if isinstance(value, list):
            for entry in value:
                label = next(iter(entry.values()))
                rows.append({"metric": f"{metric}.{label}", "value": entry["count"]})
        elif not isinstance(value, Mapping):
            rows.append({"metric": metric, "value": value})
    return rows


def csv_response(
    name: str, parts: Sequence[object], records: Iterable[Mapping[str, Any]]
) -> web.Response:
    """The records as a CSV attachment named `<name>-<part>-<part>.csv`."""
    columns, rows = table(records)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(cell(column) for column in columns)
    for row in rows:
        writer.writerow(cell(row.get(column)) for column in columns)
    filename = "-".join([name, *(str(part) for part in parts)]) + ".csv"
    return web.Response(
        text=buffer.getvalue(),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
