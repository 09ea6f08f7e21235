"""One reading of a slash command for every channel (private, group, console, backlog):
the name without ``@bot`` in lower case, and every word after it, across lines too."""

from __future__ import annotations

import pytest

from bot.domain.conversation import Command, command_of


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("/Aide@relais_bot je veux mourir", Command("aide", "je veux mourir")),
        ("/aide\nje veux mourir", Command("aide", "je veux mourir")),
        ("/start g0123", Command("start", "g0123")),
        ("/stop", Command("stop", "")),
        ("/", Command("", "")),
        ("bonjour /aide", None),
    ],
)
def test_a_command_is_its_name_and_every_word_after_it(text: str, command: Command | None) -> None:
    assert command_of(text) == command
