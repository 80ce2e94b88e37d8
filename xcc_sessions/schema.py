"""The column contract shared by sessionize (Parquet files), load (SQL tables) and serve.

Timestamps are naive `Datetime("us")` values that mean UTC: the SQL tables store them as
`timestamp` columns, documented as UTC, so no engine's session time zone can shift them.
"""

import polars as pl

TIMESTAMP = pl.Datetime("us")

SESSIONS = pl.Schema(
    {
        "session_id": pl.String(),
        "customer_id": pl.Int64(),
        "session_index": pl.Int32(),
        "started_at": TIMESTAMP,
        "ended_at": TIMESTAMP,
        "duration_seconds": pl.Float64(),
        "event_count": pl.Int32(),
        "page_view_count": pl.Int32(),
        "order_count": pl.Int32(),
        "first_order_at": TIMESTAMP,
        "referrer": pl.String(),
        "landing_page": pl.String(),
        "user_agent": pl.String(),
        "ip": pl.String(),
    }
)

EVENTS = pl.Schema(
    {
        "id": pl.Int64(),
        "session_id": pl.String(),
        "customer_id": pl.Int64(),
        "type": pl.String(),
        "timestamp": TIMESTAMP,
        "page": pl.String(),
        "referrer": pl.String(),
        "query": pl.String(),
        "product": pl.Int64(),
        "position": pl.Int32(),
        "user_agent": pl.String(),
        "ip": pl.String(),
    }
)
