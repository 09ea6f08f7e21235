-- Mirrors sqlite/0001_initial.sql column for column (same names, same unix-second
-- integers), so exports and operators' queries read the same on both backends.

-- Conversation state: one row per pseudonymous user key. `state` is JSON holding choice
-- ids only (never typed text); `version` is the optimistic lock replicas compare.
CREATE TABLE conversations (
    user_key   TEXT PRIMARY KEY,
    state      TEXT NOT NULL,
    version    INTEGER NOT NULL,
    updated_at BIGINT NOT NULL  -- unix seconds; drives expiry
);
CREATE INDEX conversations_updated_at ON conversations (updated_at);

-- Anonymous statistics. No user key: `session` is random per conversation and loses any
-- link to a person when the conversation state is erased or expires.
CREATE TABLE events (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at_hour   BIGINT NOT NULL,  -- unix seconds rounded down to the hour
    kind      TEXT NOT NULL,
    flow      TEXT,
    step      TEXT,
    dimension TEXT,
    choice    TEXT,
    locale    TEXT,
    origin    TEXT,
    session   TEXT
);
CREATE INDEX events_at_hour ON events (at_hour);
CREATE INDEX events_session ON events (session);
