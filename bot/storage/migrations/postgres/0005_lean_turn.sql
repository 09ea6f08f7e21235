-- Mirrors sqlite/0005_lean_turn.sql and sqlite/0006_no_session_index.sql: indexes a turn
-- wrote to but only the daily purge or /oubli read. Besides the writes they save,
-- dropping conversations_updated_at lets PostgreSQL update a conversation in place (a
-- HOT update: no column of any index changes on a turn, so no index entry is added).
-- The purge scans instead, once a day; /oubli finds events by hour, then by session.
DROP INDEX conversations_updated_at;
DROP INDEX processed_updates_processed_at;
DROP INDEX events_session;
DROP INDEX sent_messages_sent_at;
