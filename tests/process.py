"""``relais run`` as a child process polling the fake Bot API, configured by environment.

Used where the real process matters: killed with SIGKILL mid-burst (``test_faults``), or
given a CPU core of its own under load (``test_load``).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from tests.conftest import SECRET
from tests.crowd import eventually
from tests.fakebotapi import FakeBotApi

ROOT = Path(__file__).resolve().parent.parent


class Process:
    """``relais run`` (polling the fake Bot API) in a child process, set up by environment."""

    def __init__(self, api: FakeBotApi, db: Path, log: Path) -> None:
        self.api = api
        self.log = log
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("WEBHOOK_", "DATABASE"))},
            "TELEGRAM_BOT_TOKEN": api.token,
            "BOT_API_URL": api.base_url,
            "DATABASE_URL": f"sqlite:///{db}",
            "PSEUDONYM_SECRET": SECRET,
            "MESSAGES_PER_SECOND": "100000",
            "PTB_TIMEDELTA": "1",
            "PYTHONPATH": str(ROOT),
        }
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        polls = len(self.api.calls_of("getUpdates"))
        with self.log.open("a") as out:
            self.process = await asyncio.create_subprocess_exec(
                str(Path(sys.executable).with_name("relais")),
                "run",
                cwd=self.log.parent,  # no stray .env
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=out,
            )
        await eventually(
            lambda: len(self.api.calls_of("getUpdates")) > polls, 30, "relais run to poll"
        )

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        assert await self.process.wait() == -signal.SIGKILL

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await asyncio.wait_for(self.process.wait(), 30)
