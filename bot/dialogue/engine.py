"""The dialogue engine: ``advance(catalog, conversation, event, now) -> Outcome``.

Pure on purpose: no I/O, no clock, no Telegram types. Every decision about what a young
person sees is made here and unit-tested without a bot; the adapters only carry it.

Rules it keeps whatever happens:
- every reply that can end a conversation carries a way to reach help (3018);
- nothing the person typed is kept: text is read to react, then dropped;
- a button from an old message is answered calmly and the current question shown again.
"""

from __future__ import annotations

import datetime as dt
from weakref import WeakKeyDictionary

from bot.content.catalog import EMERGENCY_RESOURCES, MAIN_RESOURCE, Catalog
from bot.content.flows import BACK, FLOW_JUMP, SKIP, Flow, Step
from bot.dialogue.crisis_answer import answer_locale, copy_buttons, crisis_text, safety_line
from bot.dialogue.render import help_line, resource_block, step_text, summary_text
from bot.domain.conversation import (
    COPY_TEXT_LIMIT,
    SKIPPED,
    Button,
    Command,
    Conversation,
    Event,
    Keyboard,
    Outcome,
    Press,
    Reply,
    Source,
    Stat,
    Text,
    Unsupported,
)
from bot.domain.group import looks_like_token
from bot.domain.policy import Policy

NAV_START, NAV_RESUME = "nav:start", "nav:resume"
LANG_PREFIX = "lang:"
COMMAND_ALIASES = {
    "start": "start",
    "recommencer": "start",
    "restart": "start",
    "aide": "aide",
    "help": "aide",
    "stop": "stop",
    "langue": "langue",
    "language": "langue",
    "urgence": "urgence",
    "emergency": "urgence",
    "confidentialite": "confidentialite",
    "privacy": "confidentialite",
    "oubli": "oubli",
    "forget": "oubli",
    "effacer": "effacer",
    "erase": "effacer",
    "rappels": "rappels",
    "reminders": "rappels",
}
FORGET_YES, FORGET_NO = "forget:yes", "forget:no"
REMINDERS_OFF, REMINDERS_ON = "reminders:off", "reminders:on"


def _choice_label(flow: Flow, dimension: str, answer: str) -> str | None:
    """The label key of the choice recorded as ``answer`` for ``dimension``."""
    for step in flow.steps.values():
        if step.record == dimension:
            for choice in step.choices:
                if choice.id == answer:
                    return choice.label
    return None


def callback_data(flow: Flow, step: str, choice: str) -> str:
    """What a button carries: enough to tell a current press from a stale one."""
    return f"{flow.id}:{flow.version}:{step}:{choice}"


class Engine:
    """Binds the catalog so adapters call ``engine.advance(conversation, event, now)``."""

    def __init__(self, catalog: Catalog, policy: Policy | None = None) -> None:
        self.catalog = catalog
        self.policy = policy or Policy()

    def new_conversation(
        self, language_code: str | None, session: str = "", since: int = 0
    ) -> Conversation:
        """State for someone the bot has not met (or who asked to be forgotten)."""
        locale = self.catalog.locales.resolve(language_code)
        return Conversation(locale=locale, session=session, since=since)

    def advance(self, conv: Conversation, event: Event, now: dt.datetime) -> Outcome:
        return advance(self.catalog, conv, event, now, self.policy)

    def waiting_for_answer(self, conv: Conversation) -> bool:
        """In the middle of a flow, help not yet shown: worth one gentle reminder (unless
        the person switched reminders off)."""
        if not conv.reminders:
            return False
        flow = self.catalog.flow(conv.flow or "")
        if flow is None or conv.step not in flow.steps:
            return False
        return not flow.steps[conv.step].end

    def reminder(self, conv: Conversation, now: dt.datetime) -> Reply:
        """The single message sent when someone stops answering mid-flow."""
        turn = _Turn(self.catalog, conv, now, self.policy)
        return Reply(turn.t("nudge.reminder") + "\n\n" + turn.help(), turn.resume_or_start())

    def unavailable(self, language_code: str | None, event: Event, now: dt.datetime) -> Outcome:
        """What to say when the conversation cannot be read or saved (the database is
        down): words of crisis get their answer first, as always, since detecting them
        needs nothing stored; then a calm apology with 3018. Nothing is saved."""
        turn = _Turn(self.catalog, self.new_conversation(language_code), now, self.policy)
        words = words_of(event)
        answered = words is not None and turn.crisis(*words)
        if not (isinstance(event, Text) and event.edited and not answered):
            turn.say(turn.t("error.storage", help=turn.help()))
        return Outcome(turn.conv, tuple(turn.replies), tuple(turn.stats))


def advance(
    catalog: Catalog,
    conv: Conversation,
    event: Event,
    now: dt.datetime,
    policy: Policy | None = None,
) -> Outcome:
    """Decide what happens when ``event`` arrives in ``conv`` at instant ``now``."""
    conv, apology = _reconcile(catalog, conv)
    turn = _Turn(catalog, conv, now, policy or Policy())
    if apology:
        turn.say(turn.t("flow.updated"))
    # Words of crisis are answered before anything else, wherever they were typed. A
    # message of words is then answered; a command still does what it was asked to.
    words = words_of(event)
    answered = words is not None and turn.crisis(*words)
    if isinstance(event, Command):
        turn.command(event)
    elif isinstance(event, Press):
        turn.press(event.data)
    elif answered:
        pass
    elif isinstance(event, Text):
        if not event.edited:  # an edit without words of crisis changes nothing
            turn.text()
    elif isinstance(event, Unsupported):
        turn.unsupported(event.kind, typed=bool(event.caption.strip()))
    return Outcome(
        turn.conv,
        tuple(turn.replies),
        tuple(turn.stats),
        forget=turn.forget,
        erase_messages=turn.erase_messages,
    )


def words_of(event: Event) -> tuple[str, Source] | None:
    """The words a person typed in ``event`` and where, to be read for crisis."""
    if isinstance(event, Text):
        return event.text, Source.EDITED if event.edited else Source.TEXT
    if isinstance(event, Unsupported) and event.caption:
        return event.caption, Source.CAPTION
    if isinstance(event, Command):
        if event.name == "start":
            # A group's token (``/start g...``) is ours, not words; anything else was typed.
            return None if looks_like_token(event.args) else (event.args, Source.START)
        # The name too: ``/suicide`` is typed words, whatever the command menu says.
        return f"{event.name} {event.args}", Source.COMMAND
    return None


def _shows_help(step: Step) -> bool:
    """Leaving this step keeps its message on screen (the next one is sent anew): the
    emergency numbers after "yes, in danger", or the help at the end, must stay visible."""
    return step.end or bool(step.resources)


def _reconcile(catalog: Catalog, conv: Conversation) -> tuple[Conversation, bool]:
    """Bring a conversation saved under an older flow version onto the current one.

    The person keeps their place when the step still exists; otherwise they go back to the
    flow's start (with a short apology) rather than meeting an error or a dead button.
    """
    if not conv.active:
        return conv, False
    flow = catalog.flow(conv.flow or "")
    if flow is None:
        return conv.with_(flow=None, step=None, history=(), flow_version=0), True
    if conv.flow_version == flow.version:
        return conv, False
    if conv.step in flow.steps:
        history = tuple(s for s in conv.history if s in flow.steps or ":" in s)
        return conv.with_(flow_version=flow.version, history=history), False
    # The step is gone: back to the latest step of the path that still exists.
    path = list(conv.history)
    while path:
        previous = path.pop()
        if previous in flow.steps:
            moved = conv.with_(flow_version=flow.version, step=previous, history=tuple(path))
            dimension = flow.steps[previous].record
            answers = {k: v for k, v in conv.answers.items() if k != dimension}
            return moved.with_(answers=answers), True
    return conv.with_(flow_version=flow.version, step=flow.start, history=(), answers={}), True


# Rendered question keyboards per catalog, by (flow, version, step, locale, can go back):
# the same few dozen for everyone, so each is built once. Kept here, not in the catalog,
# so the catalog stays immutable.
_KEYBOARDS: WeakKeyDictionary[Catalog, dict[tuple[str, int, str, str, bool], Keyboard]] = (
    WeakKeyDictionary()
)


class _Turn:
    """Accumulates the replies and statistics of one event; mutable only inside ``advance``."""

    def __init__(
        self, catalog: Catalog, conv: Conversation, now: dt.datetime, policy: Policy
    ) -> None:
        self.catalog, self.conv, self.now, self.policy = catalog, conv, now, policy
        self.replies: list[Reply] = []
        self.stats: list[Stat] = []
        self.forget = False
        self.erase_messages = False

    # -- helpers ------------------------------------------------------------------------

    def t(self, key: str, **values: object) -> str:
        return self.catalog.locales.text(self.conv.locale, key, **values)

    def say(self, text: str, keyboard: Keyboard = (), *, edit: bool = False) -> None:
        self.replies.append(Reply(text, keyboard, edit=edit))

    def help(self) -> str:
        return help_line(self.catalog, self.conv.locale, self.now)

    def start_button(self) -> Keyboard:
        return ((Button(self.t("button.start"), data=NAV_START),),)

    def reminders_keyboard(self) -> Keyboard:
        """The switch for the one reminder, above the way back to the conversation."""
        if self.conv.reminders:
            switch = Button(self.t("button.reminders_off"), data=REMINDERS_OFF)
        else:
            switch = Button(self.t("button.reminders_on"), data=REMINDERS_ON)
        return ((switch,), *self.resume_or_start())

    def reminders_state(self) -> str:
        key = "command.reminders_on" if self.conv.reminders else "command.reminders_off"
        return self.t(key)

    def resume_or_start(self) -> Keyboard:
        if self.conv.active:
            return ((Button(self.t("button.resume"), data=NAV_RESUME),),)
        return self.start_button()

    def current(self) -> tuple[Flow, Step] | None:
        flow = self.catalog.flow(self.conv.flow or "")
        if flow is None or self.conv.step not in flow.steps:
            return None
        return flow, flow.steps[self.conv.step]

    def show_step(self, *, edit: bool = False) -> None:
        """Render the current step with its buttons (back and skip added here, for all)."""
        found = self.current()
        if found is None:
            self.say(self.help(), self.start_button(), edit=edit)
            return
        flow, step = found
        assert self.conv.step is not None
        name = self.conv.step
        text = step_text(self.catalog, step, self.conv.locale, self.conv.answers, self.now)
        key = (flow.id, flow.version, name, self.conv.locale, bool(self.conv.history))
        cache = _KEYBOARDS.setdefault(self.catalog, {})
        keyboard = cache.get(key)
        if keyboard is None:
            keyboard = cache[key] = self.question_keyboard(flow, step, name)
        rows = list(keyboard)
        if step.end:
            rows += self.end_buttons(flow, step)
        self.say(text, tuple(rows), edit=edit)

    def question_keyboard(self, flow: Flow, step: Step, name: str) -> Keyboard:
        """The step's choices, two a row when short, then back and skip."""
        buttons = [
            Button(self.t(c.label), data=callback_data(flow, name, c.id)) for c in step.choices
        ]
        width = 2 if all(len(b.label) <= 16 for b in buttons) else 1
        rows = [tuple(buttons[i : i + width]) for i in range(0, len(buttons), width)]
        extra = []
        if self.conv.history:
            extra.append(Button(self.t("button.back"), data=callback_data(flow, name, BACK)))
        if step.skip:
            extra.append(Button(self.t("button.skip"), data=callback_data(flow, name, SKIP)))
        if extra:
            rows.append(tuple(extra))
        return tuple(rows)

    def end_buttons(self, flow: Flow, step: Step) -> list[tuple[Button, ...]]:
        """What every end offers: copy the number (Telegram refuses ``tel:`` links), the
        chat, a summary to paste into the 3018 chat, and starting again."""
        if MAIN_RESOURCE not in step.resources:  # help abroad: 3018's buttons would mislead
            return [(Button(self.t("button.restart"), data=NAV_START),)]
        main = self.catalog.resources[MAIN_RESOURCE]
        rows: list[tuple[Button, ...]] = []
        summary = self.summary(flow, step)
        if summary:
            rows.append((Button(self.t("button.summary"), copy=summary),))
        contact = []
        if main.phone:
            contact.append(Button(self.t("button.copy_number"), copy=main.phone))
        if main.chat:
            contact.append(Button(self.t("button.chat"), url=main.chat))
        if contact:
            rows.append(tuple(contact))
        rows.append((Button(self.t("button.restart"), data=NAV_START),))
        return rows

    def summary(self, flow: Flow, step: Step) -> str | None:
        """Lines the teen can paste into the 3018 chat instead of telling it all again."""
        keys = []
        for dimension in step.summary:
            answer = self.conv.answers.get(dimension)
            label = _choice_label(flow, dimension, answer) if answer else None
            if label:
                keys.append(label)
        if not keys:
            return None
        return summary_text(self.catalog, self.conv.locale, keys)[:COPY_TEXT_LIMIT]

    def enter(self, flow: Flow, step_name: str, *, history: tuple[str, ...]) -> None:
        """Move to a step, and count completions and resources shown when it ends."""
        self.conv = self.conv.with_(
            flow=flow.id, flow_version=flow.version, step=step_name, history=history
        )
        step = flow.steps[step_name]
        if step.end:
            self.stats.append(Stat("flow_completed", flow=flow.id, step=step_name))
        for rid in step.shown_resources(self.conv.answers):
            self.stats.append(Stat("resource_shown", flow=flow.id, step=step_name, choice=rid))

    def begin(self, flow: Flow) -> None:
        self.conv = self.conv.with_(answers={})
        self.stats.append(Stat("flow_started", flow=flow.id))
        self.enter(flow, flow.start, history=())

    # -- events -------------------------------------------------------------------------

    def command(self, event: Command) -> None:
        name = COMMAND_ALIASES.get(event.name.lower())
        if name == "start":
            self.restart()
        elif name == "aide":
            self.say(self.t("command.help") + "\n\n" + self.help(), self.resume_or_start())
        elif name == "stop":
            self.conv = self.conv.with_(flow=None, step=None, history=(), answers={})
            self.say(self.t("command.stop") + "\n\n" + self.help(), self.start_button())
        elif name == "langue":
            rows = tuple(
                (Button(self.catalog.locales.by_code[code].name, data=LANG_PREFIX + code),)
                for code in self.catalog.locales.codes
            )
            self.say(self.t("command.language"), rows)
        elif name == "urgence":
            self.emergency()
        elif name == "confidentialite":
            policy = self.policy
            text = self.t(
                "command.privacy",
                idle_hours=policy.state_idle_hours,
                retention_days=policy.events_retention_days,
            )
            if policy.nudge_minutes > 0:
                text += "\n" + self.t("command.privacy_reminder")
                self.say(text, self.reminders_keyboard())
            else:
                self.say(text, self.resume_or_start())
        elif name == "rappels":
            self.say(self.reminders_state(), self.reminders_keyboard())
        elif name == "oubli":
            rows = (
                (Button(self.t("button.forget_yes"), data=FORGET_YES),),
                (Button(self.t("button.forget_no"), data=FORGET_NO),),
            )
            self.say(self.t("command.forget_confirm"), rows)
        elif name == "effacer":
            # The channel deletes what it can and reports; the engine only asks for it.
            self.erase_messages = True
        else:
            text = self.t("command.unknown") + "\n" + self.safety() + "\n\n" + self.help()
            self.say(text, self.resume_or_start())

    def restart(self, *, edit: bool = False) -> None:
        """Welcome with 3018 first, so someone who reads nothing more still has help."""
        flow = self.catalog.flow(self.catalog.entry_flow)
        self.say(self.t("welcome", help=self.help()))
        if flow is None:  # no flow loaded: the help line above is still there
            return
        self.begin(flow)
        self.show_step(edit=edit)

    def emergency(self) -> None:
        """/urgence: every emergency number at once."""
        block = resource_block(self.catalog, EMERGENCY_RESOURCES, self.conv.locale, self.now)
        self.stats.append(Stat("emergency_shown", flow=self.conv.flow, step=self.conv.step))
        rows = (copy_buttons(self.catalog, None, self.conv.locale), *self.resume_or_start())
        self.say(self.t("emergency.text") + "\n\n" + block, rows)

    def crisis(self, words: str, source: Source) -> bool:
        """Answer words of crisis with the numbers that fit the danger, in the language
        they were typed in; False when ``words`` hold none."""
        hit = self.catalog.crisis.detect(words)
        if hit is None:
            return False
        locale = answer_locale(self.catalog, hit, self.conv.locale)
        text = crisis_text(self.catalog, hit.tier, locale, self.now)
        resume = (
            Button(self.catalog.locales.text(locale, "button.resume"), data=NAV_RESUME)
            if self.conv.active
            else Button(self.catalog.locales.text(locale, "button.start"), data=NAV_START)
        )
        rows = (copy_buttons(self.catalog, hit.tier, locale), (resume,))
        self.stats.append(
            Stat(
                "emergency_shown",
                flow=self.conv.flow,
                step=self.conv.step,
                dimension=source,
                choice=hit.tier,
            )
        )
        self.say(text, rows)
        return True

    def press(self, data: str) -> None:
        if data == NAV_START:
            self.restart()
            return
        if data == NAV_RESUME:
            self.show_step()
            return
        if data == FORGET_YES:
            # The chat's messages first (forgetting erases the ids /effacer needs), then
            # everything stored: state, language, statistics of this conversation.
            self.erase_messages = True
            self.forget = True
            # The session stays so storage can find and erase this conversation's events.
            conv = self.conv
            self.conv = Conversation(locale=conv.locale, session=conv.session, since=conv.since)
            # A new message: the one with the button is among those deleted.
            self.say(self.t("command.forgotten") + "\n\n" + self.help())
            return
        if data in (REMINDERS_OFF, REMINDERS_ON):
            self.conv = self.conv.with_(reminders=data == REMINDERS_ON)
            self.say(self.reminders_state(), self.reminders_keyboard(), edit=True)
            return
        if data == FORGET_NO:
            self.say(self.t("command.forget_cancelled"), self.resume_or_start(), edit=True)
            return
        if data.startswith(LANG_PREFIX):
            code = data.removeprefix(LANG_PREFIX)
            if code in self.catalog.locales.by_code:
                self.conv = self.conv.with_(locale=code)
                self.say(self.t("language.changed"), edit=True)
                if self.conv.active:
                    self.show_step()
                else:
                    self.say(self.help(), self.start_button())
                return
        parts = data.split(":")
        found = self.current()
        if len(parts) == 4 and found is not None:
            flow, step = found
            flow_id, _version, step_name, choice_id = parts
            mine = flow_id == flow.id and step_name == self.conv.step
            if mine and self.choose(flow, step, choice_id):
                return
        self.stale()

    def choose(self, flow: Flow, step: Step, choice_id: str) -> bool:
        """Apply a press on the current step; False when the choice does not exist."""
        assert self.conv.step is not None
        here = self.conv.step
        answers = dict(self.conv.answers)
        if choice_id == BACK:
            if not self.conv.history:
                return False
            previous = self.conv.history[-1]
            target_flow = flow
            if ":" in previous:  # back across a hand-over: "start:who"
                other_id, _, previous = previous.partition(":")
                found_flow = self.catalog.flow(other_id)
                if found_flow is None or previous not in found_flow.steps:
                    return False
                target_flow = found_flow
            dimension = target_flow.steps[previous].record
            if dimension:
                answers.pop(dimension, None)
            self.conv = self.conv.with_(answers=answers)
            self.enter(target_flow, previous, history=self.conv.history[:-1])
            self.show_step(edit=not _shows_help(step))
            return True
        if choice_id == SKIP and step.skip:
            target, recorded = step.skip, SKIPPED
        else:
            choice = next((c for c in step.choices if c.id == choice_id), None)
            if choice is None:
                return False
            target, recorded = choice.next, choice.id
        if step.record:
            answers[step.record] = recorded
        self.stats.append(
            Stat("step_answered", flow=flow.id, step=here, dimension=step.record, choice=recorded)
        )
        self.conv = self.conv.with_(answers=answers)
        if target.startswith(FLOW_JUMP):
            other = self.catalog.flow(target[1:])
            if other is None:
                return False
            self.stats.append(Stat("flow_started", flow=other.id))
            # Remember where we came from, qualified by flow, so "back" can return there.
            self.enter(other, other.start, history=(f"{flow.id}:{here}",))
        else:
            self.enter(flow, target, history=(*self.conv.history, here))
        self.show_step(edit=not _shows_help(step))
        return True

    def stale(self) -> None:
        """An old or forged button: say so kindly and show where the person really is."""
        self.say(self.t("nudge.stale"))
        self.show_step()

    def safety(self) -> str:
        return safety_line(self.catalog, self.conv.locale)

    def text(self) -> None:
        """Typed text that is not words of crisis: the buttons, and one line of safety in
        case the words meant more than we understood."""
        if self.conv.active:
            self.say(self.t("nudge.buttons") + "\n" + self.safety())
            self.show_step()
        else:
            text = self.t("nudge.start") + "\n" + self.safety() + "\n\n" + self.help()
            self.say(text, self.start_button())

    def unsupported(self, kind: str, *, typed: bool = False) -> None:
        """``typed``: it came with words (a caption), which get the safety line too."""
        key = "nudge.photo" if kind in {"photo", "document", "video"} else "nudge.unsupported"
        self.say(self.t(key) + ("\n" + self.safety() if typed else ""))
        if self.conv.active:
            self.show_step()
        else:
            self.say(self.help(), self.start_button())
