"""The same conversation in a terminal: ``relais console``.

For trying flows without a Telegram token, and for volunteers checking their edits. Buttons
become numbered choices; everything else (engine, locales, storage) is what the bot uses.
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import TextIO

from bot.dialogue.engine import LANG_PREFIX
from bot.dialogue.service import Dialogue
from bot.domain.conversation import Button, Command, Event, Press, Reply, Text, command_of
from bot.privacy import pseudonym


def parse_line(line: str, buttons: list[Button]) -> Event | None:
    """A typed line as an engine event: a number presses a button, ``/x`` is a command."""
    line = line.strip()
    if not line:
        return None
    command = command_of(line)
    if command is not None:
        return command
    if line.isdigit() and 1 <= int(line) <= len(buttons):
        button = buttons[int(line) - 1]
        if button.data is not None:
            return Press(button.data)
    return Text(line)


def render(reply: Reply, out: TextIO, first_number: int = 1) -> list[Button]:
    """Print a reply; return its callback buttons in the order they were numbered."""
    print(reply.text, file=out)
    numbered: list[Button] = []
    for row in reply.keyboard:
        for button in row:
            if button.data is not None:
                numbered.append(button)
                print(f"  [{first_number + len(numbered) - 1}] {button.label}", file=out)
            elif button.url is not None:
                print(f"  ({button.label}: {button.url})", file=out)
            elif button.copy is not None:
                print(f"  ({button.label}: {button.copy})", file=out)
    print(file=out)
    return numbered


async def _keep(message_id: int) -> bool:
    return False


async def chat(
    dialogue: Dialogue,
    secret: str,
    *,
    language: str | None = None,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
) -> None:
    """Read lines until end of input; ``/start`` is sent first so help shows at once."""
    user_key = pseudonym(secret, "console", "local")
    if language is not None:
        # Asked for on the command line, so it wins over the language kept from an
        # earlier session (in Telegram the app's language only opens a new conversation).
        code = dialogue.locale(language)
        await dialogue.handle(
            user_key, language, Press(LANG_PREFIX + code), dt.datetime.now(dt.UTC)
        )
    buttons: list[Button] = []
    pending: Event | None = Command("start")
    while True:
        if pending is not None:
            outcome = await dialogue.handle(user_key, language, pending, dt.datetime.now(dt.UTC))
            buttons = []
            replies = outcome.replies
            if outcome.erase_messages:  # a terminal keeps its scrollback: nothing to delete
                now = dt.datetime.now(dt.UTC)
                replies = (await dialogue.erase(user_key, outcome, now, _keep)).replies
            for reply in replies:
                buttons += render(reply, stdout, len(buttons) + 1)
        print("> ", end="", file=stdout, flush=True)
        line = stdin.readline()
        if not line:
            print(file=stdout)
            return
        pending = parse_line(line, buttons)
