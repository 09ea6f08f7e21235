"""Just enough of Telegram's ``parse_mode`` handling to catch real-world formatting bugs.

Why: the most common production failure of a Telegram bot is a message Telegram
refuses with ``Bad Request: can't parse entities: ...`` — an unescaped ``<`` in
user-provided text with HTML, or a bare ``.``/``!``/``-`` with MarkdownV2.  A fake
that accepts everything hides those.  This module validates the markup the way
Telegram does (approximately; error wording follows Telegram's) and renders the
visible text, which is what tests should assert on.

It is deliberately not a full parser: nesting rules and entity offsets are not
reproduced.
"""

from __future__ import annotations

import re

__all__ = ["EntityParseError", "render"]


class EntityParseError(ValueError):
    """The text would be refused by Telegram (``can't parse entities``)."""


_HTML_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
    }
)
_TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s[^<>]*)?)>")
_ENTITY_RE = re.compile(r"&(lt|gt|amp|quot|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _unescape_html(chunk: str) -> str:
    def repl(m: re.Match[str]) -> str:
        name = m.group(1)
        if name in _NAMED:
            return _NAMED[name]
        code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
        try:
            return chr(code)
        except (ValueError, OverflowError):
            return m.group(0)

    return _ENTITY_RE.sub(repl, chunk)


def _render_html(text: str) -> str:
    out: list[str] = []
    stack: list[str] = []
    pos = 0
    while True:
        i = text.find("<", pos)
        if i < 0:
            out.append(_unescape_html(text[pos:]))
            break
        out.append(_unescape_html(text[pos:i]))
        m = _TAG_RE.match(text, i)
        offset = _byte_offset(text, i)
        if m is None:
            snippet = text[i + 1 : i + 11].split(">")[0]
            raise EntityParseError(f'Unsupported start tag "{snippet}" at byte offset {offset}')
        closing, name, attrs = m.group(1) == "/", m.group(2).lower(), m.group(3)
        if closing:
            if not stack:
                raise EntityParseError(f"Unexpected end tag at byte offset {offset}")
            if stack[-1] != name:
                raise EntityParseError(
                    f'Unmatched end tag at byte offset {offset}, expected "</{stack[-1]}>", '
                    f'found "</{name}>"'
                )
            stack.pop()
        else:
            if name not in _HTML_TAGS:
                raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {offset}')
            if name == "span" and "tg-spoiler" not in attrs:
                raise EntityParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {offset}'
                )
            stack.append(name)
        pos = m.end()
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(out)


_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MDV2_ENTITY_NAMES = {
    "*": "Bold",
    "_": "Italic",
    "__": "Underline",
    "~": "Strikethrough",
    "||": "Spoiler",
}


def _render_markdown_v2(text: str) -> str:
    out: list[str] = []
    open_marks: dict[str, int] = {}
    link_depth: list[int] = []
    n = len(text)
    i = 0
    while i < n:
        c = text[i]
        if c == "\\":
            if i + 1 >= n:
                raise EntityParseError(
                    f"Character '\\' at byte offset {_byte_offset(text, i)} "
                    "must be followed by a character"
                )
            out.append(text[i + 1])
            i += 2
            continue
        if text.startswith("```", i) or c == "`":
            fence = "```" if text.startswith("```", i) else "`"
            start = i
            i += len(fence)
            if fence == "```":
                nl = text.find("\n", i)
                if nl >= 0 and re.fullmatch(r"[A-Za-z0-9_+-]*", text[i:nl]):
                    i = nl + 1
            body: list[str] = []
            while True:
                if i >= n:
                    raise EntityParseError(
                        f"Can't find end of {'Pre' if fence == '```' else 'Code'} entity at "
                        f"byte offset {_byte_offset(text, start)}"
                    )
                if text[i] == "\\" and i + 1 < n:
                    body.append(text[i + 1])
                    i += 2
                    continue
                if text.startswith(fence, i):
                    i += len(fence)
                    break
                body.append(text[i])
                i += 1
            out.append("".join(body))
            continue
        two = text[i : i + 2]
        mark = two if two in ("__", "||") else c if c in "*_~" else None
        if mark is not None:
            if mark in open_marks:
                del open_marks[mark]
            else:
                open_marks[mark] = i
            i += len(mark)
            continue
        if c == "[":
            link_depth.append(i)
            i += 1
            continue
        if c == "]" and link_depth:
            link_depth.pop()
            if text.startswith("(", i + 1):
                close = text.find(")", i + 2)
                if close < 0:
                    raise EntityParseError(
                        f"Can't find end of a URL at byte offset {_byte_offset(text, i + 1)}"
                    )
                i = close + 1
            else:
                i += 1
            continue
        if c == ">" and (i == 0 or text[i - 1] == "\n"):
            i += 1
            continue
        if c in _MDV2_RESERVED:
            raise EntityParseError(
                f"Character '{c}' is reserved and must be escaped with the preceding '\\'"
            )
        out.append(c)
        i += 1
    if open_marks:
        mark, at = min(open_marks.items(), key=lambda kv: kv[1])
        raise EntityParseError(
            f"Can't find end of {_MDV2_ENTITY_NAMES[mark]} entity at byte offset "
            f"{_byte_offset(text, at)}"
        )
    if link_depth:
        raise EntityParseError(
            f"Can't find end of a TextUrl entity at byte offset {_byte_offset(text, link_depth[0])}"
        )
    return "".join(out)


def _render_markdown(text: str) -> str:
    out: list[str] = []
    n = len(text)
    i = 0
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            out.append(text[i + 1])
            i += 2
            continue
        if c in "*_`":
            end = text.find(c, i + 1)
            if end < 0:
                raise EntityParseError(
                    f"Can't find end of the entity starting at byte offset {_byte_offset(text, i)}"
                )
            out.append(text[i + 1 : end])
            i = end + 1
            continue
        if c == "[":
            m = re.compile(r"\[([^\]]*)\]\(([^)]*)\)").match(text, i)
            if m is None:
                raise EntityParseError(
                    f"Can't find end of the entity starting at byte offset {_byte_offset(text, i)}"
                )
            out.append(m.group(1))
            i = m.end()
            continue
        out.append(c)
        i += 1
    return "".join(out)


def render(text: str, parse_mode: str | None) -> str:
    """Return the visible text for ``text`` under ``parse_mode``.

    Raises :class:`EntityParseError` when Telegram would refuse the markup, ``ValueError``
    for an unknown ``parse_mode``.
    """
    mode = (parse_mode or "").lower()
    if not mode:
        return text
    if mode == "html":
        return _render_html(text)
    if mode == "markdownv2":
        return _render_markdown_v2(text)
    if mode == "markdown":
        return _render_markdown(text)
    raise ValueError(f"unsupported parse_mode {parse_mode!r}")
