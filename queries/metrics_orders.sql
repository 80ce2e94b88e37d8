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
with sessions_in_order as (
    select
        session_index,
        started_at,
        first_order_at,
        count(first_order_at) over customer_history as sessions_with_orders_so_far,
        coalesce(sum(duration_seconds) over earlier_sessions, 0) as seconds_in_earlier_sessions
    from sessions
    window
        customer_history as (
            partition by customer_id
            order by session_index
            rows between unbounded preceding and current row
        ),
        earlier_sessions as (
            partition by customer_id
            order by session_index
            rows between unbounded preceding and 1 preceding
        )
),

purchase_sessions as (
    select
        session_index as visits,
        (
            seconds_in_earlier_sessions
            + cast(extract(epoch from first_order_at - started_at) as double precision)
        ) / 60 as minutes
    from sessions_in_order
    where first_order_at is not null and sessions_with_orders_so_far = 1
)

select
    percentile_cont(0.5) within group (order by visits) as median_visits_before_order,
    percentile_cont(0.5) within group (
        order by minutes
    ) as median_session_duration_minutes_before_order
from purchase_sessions
