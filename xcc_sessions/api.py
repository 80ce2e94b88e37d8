"""The metrics web API: Starlette routes over the SQL in queries/, read through a cached reader.

Every number is computed by the database from the sessions table; this module only validates the
request, names the query and shapes the JSON. Errors are JSON too: {"error": "...", "status": N}.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from xcc_sessions import __version__
from xcc_sessions.database import Database
from xcc_sessions.errors import XccError
from xcc_sessions.openapi import MAX_MIN_SESSIONS, openapi_spec
from xcc_sessions.readers import DatabaseUnavailableError, Reader, Row, open_reader

logger = logging.getLogger(__name__)

#: Seconds a client should wait before asking again after a 503.
RETRY_AFTER = 5


def create_app(database: Database, *, timeout: float = 3.0) -> Starlette:
    """The API over `database`; the reader opens and closes with the app's lifespan.

    `timeout`: seconds a request waits for an unreachable PostgreSQL before answering 503.
    """
    reader = open_reader(database, timeout=timeout)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        reader.open()
        try:
            yield
        finally:
            reader.close()

    app = Starlette(
        routes=[
            Route("/", index, methods=["GET"]),
            Route("/health", health, methods=["GET"]),
            Route("/metrics/orders", metrics_orders, methods=["GET"]),
            Route("/metrics/referrers", metrics_referrers, methods=["GET"]),
            Route("/openapi.json", openapi, methods=["GET"]),
        ],
        exception_handlers={
            HTTPException: http_error,
            DatabaseUnavailableError: database_unavailable,
            Exception: server_error,
        },
        lifespan=lifespan,
    )
    # /health/ is no route (404, as the contract says), not a redirect built from the Host header.
    app.router.redirect_slashes = False
    app.state.reader = reader
    return app


def serve(
    database: Database,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    log_level: str = "info",
    access_log: bool = False,
) -> None:
    """Serve the API over `database` under uvicorn until interrupted."""
    check_port_free(host, port)
    uvicorn.run(
        create_app(database),
        host=host,
        port=port,
        log_level=log_level,
        access_log=access_log,
        lifespan="on",
    )


def check_port_free(
    host: str, port: int, *, advice: str = "check --host, or choose another --port"
) -> None:
    """Fail with a clear message, before uvicorn starts, when `host:port` cannot be listened on."""
    try:
        family, kind, protocol, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM
        )[0]
        with socket.socket(family, kind, protocol) as probe:
            # As uvicorn binds: a port in TIME_WAIT from a previous server is free to reuse.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as error:
        raise XccError(
            f"cannot listen on {host}:{port}: {error.strerror or error}; {advice}"
        ) from None


async def index(request: Request) -> JSONResponse:
    return JSONResponse(
        {
            "name": "xcc-sessions",
            "version": __version__,
            "endpoints": ["/metrics/orders", "/metrics/referrers", "/health", "/openapi.json"],
        }
    )


async def health(request: Request) -> JSONResponse:
    reader = _reader(request)
    return JSONResponse(
        {
            "status": "ok",
            "engine": reader.database.engine,
            "database": reader.database.display,
            "latest_load_run": _json_row(await reader.fresh_load_run()),
        }
    )


async def metrics_orders(request: Request) -> Response:
    body = await _reader(request).fresh_result("metrics_orders", (), _order_metrics_json)
    return Response(body, media_type="application/json")


async def metrics_referrers(request: Request) -> Response:
    min_sessions = _min_sessions(request)
    referrers = await _reader(request).fresh_result("metrics_referrers", (min_sessions,), _json)
    body = b'{"min_sessions":%d,"referrers":%b}' % (min_sessions, referrers)
    return Response(body, media_type="application/json")


async def openapi(request: Request) -> JSONResponse:
    return JSONResponse(openapi_spec())


# The JSON bodies are cached with the results: a cached answer is sent without re-encoding.


def _order_metrics_json(rows: list[Row]) -> bytes:
    (row,) = rows
    return _json(
        {
            "median_visits_before_order": row["median_visits_before_order"],
            "median_session_duration_minutes_before_order": row[
                "median_session_duration_minutes_before_order"
            ],
        }
    )


def _json(content: object) -> bytes:
    """`content` encoded as JSONResponse encodes it."""
    return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def _min_sessions(request: Request) -> int:
    values = request.query_params.getlist("min_sessions")
    if not values:
        return 1
    text = values[-1].lstrip("0")
    # The length check first: int() refuses over 4,300 digits, and the databases over 64 bits.
    valid = len(values) == 1 and text.isascii() and text.isdigit() and len(text) <= 19
    if not valid or not 1 <= int(text) <= MAX_MIN_SESSIONS:
        given = ", ".join(values)
        shown = given if len(given) <= 40 else f"{given[:40]}..."
        raise HTTPException(
            400,
            f"min_sessions must be one whole number from 1 to {MAX_MIN_SESSIONS}, got {shown!r}",
        )
    return int(text)


def _reader(request: Request) -> Reader:
    reader: Reader = request.app.state.reader
    return reader


def _json_row(row: Row) -> dict[str, Any]:
    """`row` fit for JSON: timestamps (stored as naive UTC) as ISO 8601 with a Z."""
    return {
        key: f"{value.isoformat()}Z" if isinstance(value, datetime) else value
        for key, value in row.items()
    }


def _error(message: str, status: int, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message, "status": status}, status, headers=headers)


async def http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    if error.status_code == 404:
        message = f"no such endpoint: {request.url.path} (see /openapi.json)"
    elif error.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}; use GET"
    else:
        message = error.detail
    return _error(message, error.status_code, error.headers)


async def database_unavailable(request: Request, error: Exception) -> Response:
    return _error(str(error), 503, {"Retry-After": str(RETRY_AFTER)})


async def server_error(request: Request, error: Exception) -> Response:
    logger.error("%s %s failed", request.method, request.url.path, exc_info=error)
    return _error("internal server error: the request failed; see the server log", 500)
