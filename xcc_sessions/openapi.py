"""The API's written contract: the OpenAPI 3.1 document served at /openapi.json, kept as data."""

from __future__ import annotations

from typing import Any

from xcc_sessions import __version__

#: The largest min_sessions: a 64-bit integer, as both databases take it.
MAX_MIN_SESSIONS = 2**63 - 1

_NUMBER_OR_NULL = {"type": ["number", "null"]}


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _ok(description: str, schema: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


_UNAVAILABLE = {
    **_error_response(
        "The database cannot answer: not there, never loaded, unreachable, or being written. "
        "Retry-After says when to try again; the server reconnects by itself."
    ),
    "headers": {
        "Retry-After": {
            "description": "Seconds to wait before asking again.",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}
_FAILED = _error_response("The request failed unexpectedly; the server log has the details.")


def _get(
    summary: str, ok: dict[str, Any], *, reads_the_database: bool = True, **extra: Any
) -> dict[str, Any]:
    responses = {"200": ok, "500": _FAILED}
    if reads_the_database:
        responses["503"] = _UNAVAILABLE
    responses.update(extra.pop("responses", {}))
    return {"get": {"summary": summary, **extra, "responses": responses}}


_LOAD_RUN_COUNTS = [
    "source_bytes",
    "lines",
    "blank",
    "rejected",
    "anonymous",
    "duplicates",
    "events",
    "customers",
    "sessions",
    "sessions_loaded",
    "events_loaded",
]

_SCHEMAS: dict[str, Any] = {
    "OrderMetrics": {
        "type": "object",
        "description": (
            "Over customers with at least one placed_order; their purchase session is their "
            "first session holding an order. Medians are interpolated (the mean of the two "
            "middle values for an even count); null when no customer has ordered."
        ),
        "required": [
            "median_visits_before_order",
            "median_session_duration_minutes_before_order",
        ],
        "additionalProperties": False,
        "properties": {
            "median_visits_before_order": {
                **_NUMBER_OR_NULL,
                "description": "Sessions up to and including the purchase session (1 = "
                "bought in the first session).",
            },
            "median_session_duration_minutes_before_order": {
                **_NUMBER_OR_NULL,
                "description": "Minutes in the sessions before the purchase session plus the "
                "minutes from its start to its first order.",
            },
        },
        "example": {
            "median_visits_before_order": 1.5,
            "median_session_duration_minutes_before_order": 47.5,
        },
    },
    "ReferrerMetrics": {
        "type": "object",
        "required": ["min_sessions", "referrers"],
        "properties": {
            "min_sessions": {"type": "integer", "minimum": 1, "maximum": MAX_MIN_SESSIONS},
            "referrers": {
                "type": "array",
                "description": "By sessions, largest first.",
                "items": {"$ref": "#/components/schemas/Referrer"},
            },
        },
    },
    "Referrer": {
        "type": "object",
        "required": [
            "referrer",
            "sessions",
            "order_share",
            "median_duration_minutes",
            "p25_duration_minutes",
            "p75_duration_minutes",
            "mean_duration_minutes",
        ],
        "properties": {
            "referrer": {
                "type": "string",
                "description": 'The session\'s first referrer; "(direct)" when it had none.',
            },
            "sessions": {"type": "integer"},
            "order_share": {
                "type": "number",
                "description": "Share of the sessions holding a placed_order, 0 to 1.",
            },
            "median_duration_minutes": {"type": "number"},
            "p25_duration_minutes": {"type": "number"},
            "p75_duration_minutes": {"type": "number"},
            "mean_duration_minutes": {"type": "number"},
        },
    },
    "Health": {
        "type": "object",
        "required": ["status", "engine", "database", "latest_load_run"],
        "properties": {
            "status": {"const": "ok"},
            "engine": {"enum": ["duckdb", "postgresql"]},
            "database": {"type": "string", "description": "Location, password masked."},
            "latest_load_run": {"$ref": "#/components/schemas/LoadRun"},
        },
    },
    "LoadRun": {
        "type": "object",
        "description": "The latest row of the load_runs table.",
        "properties": {
            "run_id": {"type": "integer"},
            "loaded_at": {"type": "string", "format": "date-time"},
            "source_path": {"type": "string"},
            "source_sha256": {"type": "string"},
            "gap_seconds": {"type": "number"},
            "seconds": {"type": "number"},
            **{name: {"type": "integer"} for name in _LOAD_RUN_COUNTS},
        },
    },
    "Index": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "version": {"type": "string"},
            "endpoints": {"type": "array", "items": {"type": "string"}},
        },
    },
    "Error": {
        "type": "object",
        "required": ["error", "status"],
        "properties": {
            "error": {"type": "string", "description": "What went wrong, for a person."},
            "status": {"type": "integer", "description": "The HTTP status code."},
        },
        "example": {"error": "no such endpoint: /metrics/order (see /openapi.json)", "status": 404},
    },
}


def openapi_spec() -> dict[str, Any]:
    """The OpenAPI document; every route and every response status it can give."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "xcc-sessions metrics API",
            "version": __version__,
            "description": (
                "Webshop session metrics computed by SQL from the sessions table at request "
                "time, cached until the next load. Every route answers GET, and HEAD with the "
                "same status and headers but no body. Unknown routes (a trailing slash makes "
                "one) answer 404 and other methods 405, both with an Error body."
            ),
        },
        "paths": {
            "/": _get(
                "Name, version and endpoints.",
                _ok("The service.", "Index"),
                reads_the_database=False,
            ),
            "/metrics/orders": _get(
                "How many visits, and how many minutes, before a customer's first order.",
                _ok("The two medians.", "OrderMetrics"),
            ),
            "/metrics/referrers": _get(
                "Sessions, order share and session duration per referrer.",
                _ok("One entry per referrer.", "ReferrerMetrics"),
                parameters=[
                    {
                        "name": "min_sessions",
                        "in": "query",
                        "required": False,
                        "description": "Leave out referrers with fewer sessions.",
                        "schema": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": MAX_MIN_SESSIONS,
                            "default": 1,
                        },
                    }
                ],
                responses={
                    "400": _error_response(
                        f"min_sessions is not one whole number from 1 to {MAX_MIN_SESSIONS}."
                    )
                },
            ),
            "/health": _get(
                "Whether the database answers, and its latest load.",
                _ok("The database answers and has been loaded.", "Health"),
            ),
            "/openapi.json": {
                "get": {
                    "summary": "This document.",
                    "responses": {
                        "200": {
                            "description": "The OpenAPI document.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "components": {"schemas": _SCHEMAS},
    }
