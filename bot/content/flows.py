"""Conversation flows: the YAML schema, its loader, and the graph checks.

A flow is data that a non-programmer edits, so it is validated twice: its shape by
pydantic, then small named checks on the graph (unknown ``next``, unreachable steps, loops
with no way out, end steps that show no help). Every problem names file, line and step.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.content.yamlfile import YamlDocument, read_yaml
from bot.errors import ConfigError, Problem

IDENT = r"^[a-z0-9][a-z0-9_-]*$"
# Choice ids the engine reserves for the buttons it adds to every question.
BACK, SKIP = "<", "-"
# A ``next`` of ``@witness`` hands the conversation to the start of the flow ``witness``.
FLOW_JUMP = "@"


class Choice(BaseModel):
    """A button: its id is what statistics record, its label a locale key."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=IDENT, max_length=24)
    label: str
    next: str


class Advice(BaseModel):
    """A block of advice shown on a step when every condition in ``when`` holds.

    ``when`` maps a recorded dimension to the choice ids that trigger the block, e.g.
    ``{harassment_kind: [sextortion]}``; an empty ``when`` always shows the block.
    """

    model_config = ConfigDict(extra="forbid")

    when: dict[str, list[str]] = Field(default_factory=dict)
    text: str
    # Help lines that belong with this advice (3114 beside the sextortion advice), shown
    # right after its text under the same conditions.
    resources: list[str] = Field(default_factory=list)

    def applies(self, answers: dict[str, str]) -> bool:
        return all(answers.get(dim) in ids for dim, ids in self.when.items())


class Step(BaseModel):
    """One message of the conversation: a question with buttons, or an end."""

    model_config = ConfigDict(extra="forbid")

    text: str
    record: str | None = Field(default=None, pattern=IDENT)
    choices: list[Choice] = Field(default_factory=list)
    skip: str | None = Field(default=None, description="where 'I'd rather not say' leads")
    # ``lead`` advice comes before the step's resources, ``advice`` after: what must be
    # read first (don't pay, keep evidence) above 3018's line, the rest below it.
    lead: list[Advice] = Field(default_factory=list)
    advice: list[Advice] = Field(default_factory=list)
    resources: list[str] = Field(default_factory=list)
    prompt: str | None = Field(default=None, description="a question shown after resources")
    summary: list[str] = Field(
        default_factory=list, description="dimensions put in the 'copy my summary' button"
    )
    # An end step completes the flow: help has been given. It may still offer optional
    # follow-up choices (its message then stays on screen and the next one is new).
    end: bool = False

    @model_validator(mode="after")
    def _shape(self) -> Step:
        if not self.end and not self.choices:
            raise ValueError("a step without choices must say 'end: true' (a dead end otherwise)")
        ids = [c.id for c in self.choices]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"choice ids repeated: {', '.join(dupes)}")
        return self

    def shown_resources(self, answers: dict[str, str]) -> list[str]:
        """Every resource this step shows for these answers, in the order shown."""
        lead = [r for a in self.lead if a.applies(answers) for r in a.resources]
        after = [r for a in self.advice if a.applies(answers) for r in a.resources]
        return [*lead, *self.resources, *after]

    def jumps(self) -> list[str]:
        """Flows this step hands over to (``next: "@flow"``)."""
        return [c.next[1:] for c in self.choices if c.next.startswith(FLOW_JUMP)]

    def targets(self) -> Iterator[str]:
        """Every step of this flow a press on this step can lead to."""
        for choice in self.choices:
            if not choice.next.startswith(FLOW_JUMP):
                yield choice.next
        if self.skip:
            yield self.skip


class Flow(BaseModel):
    """A whole conversation: named steps and where it starts."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=IDENT, max_length=16)
    version: int = Field(ge=1)
    start: str
    steps: dict[str, Step] = Field(min_length=1)


@dataclass
class LoadedFlow:
    """A validated flow and the document it came from, to locate later problems."""

    flow: Flow
    doc: YamlDocument

    def problem(self, step: str | None, message: str, *extra: str | int) -> Problem:
        loc = ("steps", step, *extra) if step else ()
        prefix = f"step '{step}': " if step else ""
        return self.doc.problem(loc, prefix + message)


def _pydantic_problems(doc: YamlDocument, exc: ValidationError) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not isinstance(p, str) or p not in {"[key]"})
        msg = err["msg"].removeprefix("Value error, ")
        if len(loc) >= 2 and loc[0] == "steps":
            where = f"step '{loc[1]}': " + ".".join(str(p) for p in loc[2:])
        else:
            where = ".".join(str(p) for p in loc)
        if err["type"] == "string_type" and err["input"] in (True, False):
            msg += " (write yes/no/on/off in quotes: YAML reads them as true/false)"
        problems.append(doc.problem(loc, f"{where.rstrip('.: ')}: {msg}" if where else msg))
    return problems


def check_graph(loaded: LoadedFlow) -> list[Problem]:
    """Named semantic checks on a flow whose shape is already valid."""
    flow, problems = loaded.flow, []
    steps = flow.steps
    for name in steps:
        if not re.match(IDENT, name) or len(name) > 24:
            problems.append(loaded.problem(name, "step names use a-z, 0-9, _ and -, 24 at most"))
    if flow.start not in steps:
        problems.append(loaded.doc.problem(("start",), f"start '{flow.start}' is not a step"))
        return problems
    for name, step in steps.items():
        for i, choice in enumerate(step.choices):
            if choice.next.startswith(FLOW_JUMP):
                continue  # checked against the other flows by bot.dialogue.checks
            if choice.next not in steps:
                problems.append(
                    loaded.problem(
                        name, f"next '{choice.next}' is not a step", "choices", i, "next"
                    )
                )
        if step.skip is not None and step.skip not in steps:
            problems.append(loaded.problem(name, f"skip '{step.skip}' is not a step", "skip"))
        if step.end and not step.resources:
            problems.append(
                loaded.problem(name, "an end step must show at least one help resource")
            )
    if problems:
        return problems
    reachable = _reachable(flow, flow.start)
    for name in steps:
        if name not in reachable:
            problems.append(loaded.problem(name, "unreachable: no choice leads here"))
    # Handing over to another flow counts as a way out: that flow is checked on its own.
    ends = {name for name, step in steps.items() if step.end or step.jumps()}
    if not ends:
        problems.append(
            loaded.doc.problem(("steps",), "no step has 'end: true' or hands over to another flow")
        )
        return problems
    for name in sorted(reachable):
        if not (_reachable(flow, name) & ends):
            problems.append(
                loaded.problem(name, "a loop with no way out: no end step can be reached from here")
            )
    return problems


def _reachable(flow: Flow, start: str) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for nxt in flow.steps[todo.pop()].targets():
            if nxt in flow.steps and nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def load_flow(path: Path) -> LoadedFlow:
    """Read and validate one flow file; raise ``ConfigError`` with every problem."""
    doc = read_yaml(path)
    try:
        flow = Flow.model_validate(doc.data)
    except ValidationError as exc:
        raise ConfigError(_pydantic_problems(doc, exc)) from exc
    loaded = LoadedFlow(flow, doc)
    if flow.id != path.stem:
        raise ConfigError([doc.problem(("id",), f"id '{flow.id}' must match the file name")])
    problems = check_graph(loaded)
    if problems:
        raise ConfigError(problems)
    return loaded


def load_flows(directory: Path) -> dict[str, LoadedFlow]:
    """Every ``*.yaml`` directly in ``directory`` (subfolders hold other data)."""
    flows: dict[str, LoadedFlow] = {}
    problems: list[Problem] = []
    for path in sorted(directory.glob("*.yaml")):
        try:
            loaded = load_flow(path)
        except ConfigError as exc:
            problems.extend(exc.problems)
            continue
        flows[loaded.flow.id] = loaded
    if problems:
        raise ConfigError(problems)
    return flows
