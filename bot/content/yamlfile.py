"""YAML reading that remembers where every value came from.

PyYAML forgets line numbers once it builds Python objects, yet a volunteer editing a flow
needs ``flows/victim.yaml:42`` in every error, pydantic's included. So we compose the node
tree ourselves and keep a map from each value's path (``("steps", "where", "next")``) to
its line; a pydantic error's ``loc`` is then looked up in that map.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.errors import ConfigError, Problem, display_path

Loc = tuple[str | int, ...]


@dataclass
class YamlDocument:
    """Plain Python data read from a YAML file plus the line of each value."""

    path: Path
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return display_path(self.path)

    def line_of(self, loc: Loc) -> int:
        """Line of ``loc`` or of its nearest ancestor that exists (pydantic points at
        missing fields too, which only their parent mapping can locate)."""
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.lines.get((), 1)

    def problem(self, loc: Loc, message: str, *, warning: bool = False) -> Problem:
        return Problem(self.name, self.line_of(loc), message, warning)


def read_yaml(path: Path) -> YamlDocument:
    """Read ``path``; raise ``ConfigError`` naming file and line for syntax errors and
    duplicate keys (YAML would silently keep the last one, hiding an editing mistake)."""
    name = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(name, 1, f"cannot read file: {exc}")]) from exc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else 1
        reason = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([Problem(name, line, f"invalid YAML: {reason}")]) from exc
    doc = YamlDocument(path, None)
    problems: list[Problem] = []
    constructor = yaml.constructor.SafeConstructor()

    def build(node: yaml.Node, loc: Loc) -> Any:
        doc.lines.setdefault(loc, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = constructor.construct_object(key_node, deep=True)
                if not isinstance(key, str | int | bool | float):
                    problems.append(
                        Problem(name, key_node.start_mark.line + 1, "keys must be plain text")
                    )
                    continue
                key = str(key) if not isinstance(key, str) else key
                if key in result:
                    problems.append(
                        Problem(name, key_node.start_mark.line + 1, f"duplicate key '{key}'")
                    )
                    continue
                doc.lines[(*loc, key)] = key_node.start_mark.line + 1
                result[key] = build(value_node, (*loc, key))
            return result
        if isinstance(node, yaml.SequenceNode):
            return [build(item, (*loc, i)) for i, item in enumerate(node.value)]
        return constructor.construct_object(node, deep=True)

    doc.data = build(node, ()) if node is not None else None
    if problems:
        raise ConfigError(problems)
    return doc
