-- The ledger of Telegram updates already processed, so a redelivered update (webhook
-- retry, a replica that died before answering, polling offsets not yet confirmed) changes
-- nothing and sends nothing twice. An update id says nothing about who sent it; rows are
-- pruned a day after the newest one (Telegram gives up on an update within 24 hours).
CREATE TABLE processed_updates (
    update_id    INTEGER PRIMARY KEY,  -- 64-bit in SQLite; the rowid itself
    processed_at INTEGER NOT NULL  -- unix seconds
);
CREATE INDEX processed_updates_processed_at ON processed_updates (processed_at);
