"""Analytics: every live post's metrics per day, with where each value came from (DESIGN.md, analytics).

`snapshot` (one post's day and how two readings of it merge), `collect` (asking a platform client for the
days wanted, by the platform's rules), `series` (a post's days with derived deltas), `summary` and `chart`
(what the terminal and the Dagster UI show). Pure Python: no Dagster here, so the CLI and the asset share
it. The rows are stored by `resources/database/metrics.py`.
"""
