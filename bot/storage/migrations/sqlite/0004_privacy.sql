-- Messages exchanged in a private chat, so /effacer can delete them from the phone
-- (Telegram lets a bot delete both sides of a private chat for 48 hours). Only ids and
-- times: never the text. Erased with the conversation (/oubli, expiry).
CREATE TABLE sent_messages (
    user_key   TEXT NOT NULL,
    message_id INTEGER NOT NULL,
    sent_at    INTEGER NOT NULL,  -- unix seconds
    PRIMARY KEY (user_key, message_id)
);
CREATE INDEX sent_messages_sent_at ON sent_messages (sent_at);

-- One gentle reminder when someone stops mid-flow. `reach` is the chat id sealed with a
-- key derived from PSEUDONYM_SECRET (the only way to write to the person later), kept
-- only while a reminder is pending; `nudged` is the session already reminded (never two).
ALTER TABLE conversations ADD COLUMN nudge_at INTEGER;
ALTER TABLE conversations ADD COLUMN reach TEXT;
ALTER TABLE conversations ADD COLUMN nudged TEXT;
CREATE INDEX conversations_nudge_at ON conversations (nudge_at);
