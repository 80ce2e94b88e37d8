-- metrics_referrers: sessions, orders and session duration per referrer, largest first.
-- A session's referrer is the first referrer among its events; sessions without one are
-- "(direct)".
-- parameters: $1 min_sessions (integer >= 1): leave out referrers with fewer sessions
-- result: one row per referrer, by sessions descending, then referrer
--   referrer (text), sessions (bigint),
--   order_share (double precision): the share of the sessions that hold a placed_order, 0 to 1,
--   median_duration_minutes, p25_duration_minutes, p75_duration_minutes (double precision,
--     interpolated percentiles), mean_duration_minutes (double precision)
select
    coalesce(referrer, '(direct)') as referrer,
    count(*) as sessions,
    cast(count(first_order_at) as double precision) / count(*) as order_share,
    percentile_cont(0.5) within group (order by duration_seconds) / 60 as median_duration_minutes,
    percentile_cont(0.25) within group (order by duration_seconds) / 60 as p25_duration_minutes,
    percentile_cont(0.75) within group (order by duration_seconds) / 60 as p75_duration_minutes,
    avg(duration_seconds) / 60 as mean_duration_minutes
from sessions
group by coalesce(referrer, '(direct)')
having count(*) >= $1
order by sessions desc, coalesce(referrer, '(direct)') collate "C"
