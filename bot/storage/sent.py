"""Message ids waiting to be written: recorded after a reply, written in batches.

/effacer needs the ids of the messages a private chat shows, and they are known only once
Telegram has answered, after the turn's own save committed. A second commit per turn just
for them cost as much as the save itself (``bench/run.py``), so they wait here and go to
the database together: within ``FLUSH_AFTER`` seconds, before anything reads them, and
when the storage closes. The conversation itself is never batched: it is committed before
any reply.

The price, stated in the README: a process killed outright (SIGKILL, power loss) forgets
the ids of the replies of its last second, and /effacer cannot delete those few messages.
"""

from __future__ import annotations

from typing import NamedTuple

FLUSH_AFTER = 1.0  # seconds


class SentRow(NamedTuple):
    user_key: str
    message_id: int
    sent_at: int  # unix seconds


class PendingSent:
    """The rows recorded and not written yet, in order."""

    def __init__(self) -> None:
        self._rows: list[SentRow] = []

    def add(self, user_key: str, message_ids: list[int], sent_at: int) -> None:
        self._rows.extend(SentRow(user_key, m, sent_at) for m in message_ids)

    def take(self) -> list[SentRow]:
        """All pending rows, now the caller's to write (or to ``give_back``)."""
        rows, self._rows = self._rows, []
        return rows

    def give_back(self, rows: list[SentRow]) -> None:
        """Rows whose write failed: they go first again, for the next try."""
        self._rows[:0] = rows

    def drop(self, user_key: str) -> None:
        """The person asked to be forgotten, or their messages were deleted."""
        self._rows = [row for row in self._rows if row.user_key != user_key]

    def __len__(self) -> int:
        return len(self._rows)
