-- Mirrors sqlite/0003_group_settings.sql (booleans are BOOLEAN here, INTEGER there).

-- What a group's admins chose in /config. Keyed by an HMAC of the chat id (never the id),
-- and nothing about any member: pinning the card or greeting newcomers needs none.
CREATE TABLE group_settings (
    group_key       TEXT PRIMARY KEY,
    link_token      TEXT NOT NULL UNIQUE,  -- the deep-link payload; reveals no chat id
    locale          TEXT NOT NULL,
    pin_card        BOOLEAN NOT NULL DEFAULT TRUE,
    discreet        BOOLEAN NOT NULL DEFAULT TRUE,  -- delete member commands once answered
    greet           BOOLEAN NOT NULL DEFAULT FALSE,
    card_message_id BIGINT,  -- the bot's own card message in the group
    updated_at      BIGINT NOT NULL  -- unix seconds
);

-- /stats counts conversations opened from one group; only those events carry an origin.
CREATE INDEX events_origin ON events (origin, at_hour) WHERE origin IS NOT NULL;
