-- A search in the Organizations list decides from PostgreSQL's statistics of `search_text`
-- whether a term's matches are few enough to count, and where they lie in name order
-- (`orgs::search_estimate`): the share of the histogram's values holding the term. With the
-- default 101 values a term held by 3% of the organizations was estimated at 1% or 3% by chance;
-- with 1,001 its estimate is within a few tenths. The next ANALYZE (autovacuum's, or seed-demo's)
-- gathers them; until then the estimates are as rough as before. The cost is in planning a `LIKE`
-- on the column against 1,001 values instead of 101 (0.2 ms instead of 0.07): the probe of a
-- plain search hides its pattern from the planner and pays nothing; a search with other filters
-- or through the API's `filter[name]` pays it.
ALTER TABLE organizations ALTER COLUMN search_text SET STATISTICS 1000;
