-- Each turn's statistics row put a random key into this index: a random page written per
-- turn (about a third of a turn's database time in bench/run.py). /oubli, its only user,
-- now finds a conversation's events by time, from the hour the conversation began.
DROP INDEX events_session;
