"""Monthly roll-ups: the figures of each closed month, counted once in the database.

Exports and a group's /stats read these rows, never the event log itself, so a published
month cannot change afterwards: not when a conversation is forgotten (/oubli erases its
events, not the anonymous counts it is part of), not when the retention purge deletes
old events, not when flows are edited. Counting is a single ``GROUP BY`` over the month's
events: each event is fanned out to the tables it counts in (``_ROLES``), and every row
is the number of distinct conversations (sessions). ``CROSS JOIN`` keeps SQLite reading
the month's events once (with a plain join it read them once per role).

An answer to words of crisis in a group (``emergency_shown``, dimension ``group``) is no
conversation: each has a session of its own (``record_events``), so its activity column,
``group_crisis``, counts answers, and a conversation's ``emergency`` column counts none.

``choices:<flow>:<step>`` rows are the answers given at one step of one flow (``link``: the
question, i.e. its ``answers:`` table). Months rolled up before these rows existed have
none and are not counted again: adding cells to a published month could change which of
its cells are hidden, and the old and new pages read together would undo the suppression.

Plain SQL both backends run unchanged; placeholders ``{period}``, ``{start}``, ``{end}``,
``{first}``, ``{last}``, ``{now}`` are substituted by the backend.
"""

from __future__ import annotations

# (kind, role): which tables an event of each kind counts in.
_ROLES = (
    ("flow_started", "activity"),
    ("flow_completed", "activity"),
    ("emergency_shown", "activity"),
    ("flow_started", "start"),
    ("step_answered", "step"),
    ("flow_completed", "step"),
    ("step_answered", "answers"),
    ("step_answered", "choices"),
    ("flow_started", "origin"),
    ("flow_started", "locale"),
    ("resource_shown", "resources"),
)
_ROLE_TABLE = " UNION ALL ".join(f"SELECT '{k}' AS kind, '{r}' AS role" for k, r in _ROLES)

MARK_PERIOD_SQL = (
    "INSERT INTO closed_periods (period, rolled_at) VALUES ({period}, {now}) "
    "ON CONFLICT (period) DO NOTHING"
)
AGGREGATE_SQL = f"""
SELECT {{period}}, tbl, label, col, MAX(link), COUNT(DISTINCT session) FROM (
  SELECT
    CASE r.role
      WHEN 'activity' THEN 'activity'
      WHEN 'start' THEN 'funnel:' || coalesce(e.flow, '?')
      WHEN 'step' THEN 'funnel:' || coalesce(e.flow, '?')
      WHEN 'answers' THEN 'answers:' || e.dimension
      WHEN 'choices' THEN 'choices:' || coalesce(e.flow, '?') || ':' || coalesce(e.step, '?')
      ELSE r.role END AS tbl,
    CASE r.role
      WHEN 'activity' THEN ''
      WHEN 'start' THEN '(started)'
      WHEN 'step' THEN coalesce(e.step, '?')
      WHEN 'origin' THEN coalesce(e.origin, 'direct')
      WHEN 'locale' THEN coalesce(e.locale, '?')
      ELSE coalesce(e.choice, '?') END AS label,
    CASE WHEN r.role <> 'activity' THEN 'conversations'
      WHEN e.kind = 'flow_started' THEN 'started'
      WHEN e.kind = 'flow_completed' THEN 'completed'
      WHEN e.dimension = 'group' THEN 'group_crisis'
      ELSE 'emergency' END AS col,
    CASE WHEN r.role = 'choices' THEN e.dimension
      WHEN r.role <> 'step' THEN NULL
      WHEN e.kind = 'flow_completed' THEN '(end)'
      ELSE e.dimension END AS link,
    e.session AS session
  FROM events e CROSS JOIN ({_ROLE_TABLE}) r
  WHERE r.kind = e.kind AND e.at_hour >= {{start}} AND e.at_hour < {{end}}
    AND (r.role NOT IN ('answers', 'choices') OR e.dimension IS NOT NULL)
) fanned
GROUP BY tbl, label, col
"""
INSERT_COUNTS_SQL = "INSERT INTO period_counts (period, tbl, label, col, link, n) "
ROLL_UP_SQL = INSERT_COUNTS_SQL + AGGREGATE_SQL
CLOSED_PERIODS_SQL = (
    "SELECT period FROM closed_periods WHERE period >= {first} AND period <= {last} ORDER BY period"
)
PERIOD_COUNTS_SQL = (
    "SELECT period, tbl, label, col, link, n FROM period_counts "
    "WHERE period >= {first} AND period <= {last}"
)
ORIGIN_COUNTS_SQL = (
    "SELECT period, n FROM period_counts WHERE tbl = 'origin' AND label = {key} "
    "AND period >= {first} AND period <= {last}"
)
OLDEST_EVENT_SQL = "SELECT MIN(at_hour) FROM events"
# A group that became a supergroup takes its monthly counts along (see MOVE_GROUP_SQL).
MOVE_ORIGIN_COUNTS_SQL = (
    "UPDATE period_counts SET label = {new} WHERE tbl = 'origin' AND label = {old}"
)
