-- Mirrors sqlite/0005_lean_turn.sql and sqlite/0006_no_session_index.sql: indexes a turn
-- wrote to but only the daily purge or /oubli read. Besides the writes they save,
-- dropping conversations_updated_at lets PostgreSQL update a conversation in place (a
-- HOT update, when a turn changes no indexed column: most turns leave nudge_at as it is).
-- The purge scans instead, once a day; /oubli finds events by hour, then by session.
--
-- Tables in the order a turn locks them (update ledger, conversation, events), so a
-- replica of the previous version saving a turn meanwhile waits or is waited for, never
-- deadlocks with this; IF EXISTS, in case an operator dropped one by hand.
DROP INDEX IF EXISTS processed_updates_processed_at;
DROP INDEX IF EXISTS conversations_updated_at;
DROP INDEX IF EXISTS events_session;
DROP INDEX IF EXISTS sent_messages_sent_at;
