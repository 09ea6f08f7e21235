-- Mirrors sqlite/0008_removed_groups.sql.

-- Groups the bot was removed from, for a day: a late or redelivered update (to any
-- replica) must not bring the group's row, and its link token, back. Only the key (an
-- HMAC of the chat id); the purge deletes a tombstone once Telegram can no longer redeliver.
CREATE TABLE removed_groups (
    group_key  TEXT PRIMARY KEY,
    removed_at BIGINT NOT NULL  -- unix seconds
);
