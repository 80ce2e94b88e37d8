-- metrics_orders: how many visits and how much time customers spend before their first order.
-- Only customers with at least one placed_order count. A customer's purchase session is their
-- first session holding an order (sessions.first_order_at is not null).
-- parameters: none
-- result: one row
--   median_visits_before_order (double precision, null when no customer has ordered):
--     the median purchase session's session_index (the sessions up to and including it).
--   median_session_duration_minutes_before_order (double precision, null likewise): the median
--     of the summed duration of the sessions before the purchase session plus the time from the
--     purchase session's start to its first order.
-- Medians are interpolated: the mean of the two middle values when the count is even.
-- The window runs over the order-holding sessions only, and each buyer's earlier sessions are
-- summed through the (customer_id, session_index) index: far less work than a window over every
-- session of every customer (measured in benchmarks/api.py). On PostgreSQL both steps read
-- indexes alone (postgres_index_sessions_staging.sql, postgres_constrain_sessions_staging.sql).
with order_sessions as (
    select
        customer_id,
        session_index,
        started_at,
        first_order_at,
        row_number() over (
            partition by customer_id order by session_index
        ) as order_session_number
    from sessions
    where first_order_at is not null
),

purchase_sessions as (
    select
        customer_id,
        session_index,
        started_at,
        first_order_at
    from order_sessions
    where order_session_number = 1
),

journeys as (
    select
        session_index as visits,
        (
            coalesce(
                (
                    select sum(earlier_sessions.duration_seconds)
                    from sessions as earlier_sessions
                    where
                        earlier_sessions.customer_id = purchase_sessions.customer_id
                        and earlier_sessions.session_index < purchase_sessions.session_index
                ),
                0
            )
            + cast(extract(epoch from first_order_at - started_at) as double precision)
        ) / 60 as minutes
    from purchase_sessions
)

select
    percentile_cont(0.5) within group (order by visits) as median_visits_before_order,
    percentile_cont(0.5) within group (
        order by minutes
    ) as median_session_duration_minutes_before_order
from journeys
