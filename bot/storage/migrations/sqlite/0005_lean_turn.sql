-- A turn writes fewer pages (measured: bench/storage_turn.py; each page written is a
-- syscall on commit, and an index whose key changes every turn dirties a random page).
--
-- Indexes only the daily purge used: it now scans, once a day, instead of every turn
-- updating them.
DROP INDEX conversations_updated_at;
DROP INDEX processed_updates_processed_at;

-- Events: a plain rowid (AUTOINCREMENT wrote sqlite_sequence on every insert; ids are
-- never shown nor reused for anything).
CREATE TABLE events_lean (
    id        INTEGER PRIMARY KEY,
    at_hour   INTEGER NOT NULL,  -- unix seconds rounded down to the hour
    kind      TEXT NOT NULL,
    flow      TEXT,
    step      TEXT,
    dimension TEXT,
    choice    TEXT,
    locale    TEXT,
    origin    TEXT,
    session   TEXT
);
INSERT INTO events_lean SELECT * FROM events;
DROP TABLE events;
ALTER TABLE events_lean RENAME TO events;
CREATE INDEX events_at_hour ON events (at_hour);
CREATE INDEX events_session ON events (session);
CREATE INDEX events_origin ON events (origin, at_hour) WHERE origin IS NOT NULL;

-- Message ids for /effacer: one b-tree (the key is the row), no index on the time.
CREATE TABLE sent_messages_lean (
    user_key   TEXT NOT NULL,
    message_id INTEGER NOT NULL,
    sent_at    INTEGER NOT NULL,  -- unix seconds
    PRIMARY KEY (user_key, message_id)
) WITHOUT ROWID;
INSERT INTO sent_messages_lean SELECT user_key, message_id, sent_at FROM sent_messages;
DROP TABLE sent_messages;
ALTER TABLE sent_messages_lean RENAME TO sent_messages;
