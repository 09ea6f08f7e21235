-- Monthly roll-ups (bot/storage/periods.py): the true counts of each closed month, written
-- once, read by exports and /stats. Anonymous aggregates: no session, no user key.
CREATE TABLE closed_periods (
    period    TEXT PRIMARY KEY,  -- '2026-03', a month cut in EXPORT_TIMEZONE
    rolled_at BIGINT NOT NULL    -- unix seconds
);
CREATE TABLE period_counts (
    period TEXT NOT NULL,
    tbl    TEXT NOT NULL,  -- activity, funnel:<flow>, answers:<dimension>, origin, locale, resources
    label  TEXT NOT NULL,
    col    TEXT NOT NULL,
    link   TEXT,           -- funnel rows: the dimension the step records, or '(end)'
    n      BIGINT NOT NULL,
    PRIMARY KEY (period, tbl, label, col)
);
