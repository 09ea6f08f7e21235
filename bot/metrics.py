"""Prometheus metrics of one bot replica, served at ``/metrics`` in webhook mode.

Besides prometheus_client's standard process, GC and Python collectors, counts only: how
many updates, how fast, how many failed, how many flows were started and completed, how
often emergency numbers were shown. Nothing per person, and no label that could carry a
person's input (flow ids come from our own files). Each ``Metrics`` has its own registry,
so several bots in one process (tests) never mix their counts.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.exposition import generate_latest

from bot.domain.conversation import Outcome

# From a cached answer (~5 ms) to Telegram's own patience with a webhook (tens of seconds).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """The replica's counters; also the ``DialogueObserver`` that feeds the flow counts."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        # The standard process (memory, CPU, open files), GC and interpreter metrics, as
        # prometheus_client's default registry would export them.
        ProcessCollector(registry=r)
        GCCollector(registry=r)
        PlatformCollector(registry=r)
        self.updates = Counter(
            "relais_updates",
            "Webhook requests, by result: ok, failed (an error while handling), "
            "retry (database trouble: answered 500 so Telegram redelivers), "
            "refused (wrong secret token), invalid (not an update), unavailable (stopping), "
            "queued (accepted at once because its chat was busy, handled in its turn), "
            "dropped (a repeat beyond what its chat has waiting)",
            ["result"],
            registry=r,
        )
        self.latency = Histogram(
            "relais_update_seconds",
            "Time to handle one update, replies included",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.errors = Counter(
            "relais_errors",
            "Errors while handling updates, by exception type",
            ["type"],
            registry=r,
        )
        self.duplicates = Counter(
            "relais_duplicate_updates",
            "Updates delivered again and ignored (found in the update ledger)",
            registry=r,
        )
        self.conflicts = Counter(
            "relais_version_conflicts",
            "Saves that lost a race for a conversation and were re-applied",
            registry=r,
        )
        self.flows_started = Counter("relais_flows_started", "Flows started", ["flow"], registry=r)
        self.flows_completed = Counter(
            "relais_flows_completed", "Flows that reached an end step", ["flow"], registry=r
        )
        self.emergency_shown = Counter(
            "relais_emergency_shown", "Times the emergency numbers were shown", registry=r
        )
        self.crisis_answers = Counter(
            "relais_crisis_answers",
            "Answers to typed words of crisis, by tier (self, others) and where the words "
            "were read (text, caption, command, start, edited, group)",
            ["tier", "source"],
            registry=r,
        )

    # -- DialogueObserver ---------------------------------------------------------------

    def saved(self, outcome: Outcome) -> None:
        for stat in outcome.stats:
            if stat.kind == "flow_started":
                self.flows_started.labels(stat.flow or "").inc()
            elif stat.kind == "flow_completed":
                self.flows_completed.labels(stat.flow or "").inc()
            elif stat.kind == "emergency_shown":
                self.emergency_shown.inc()
                if stat.choice:  # words of crisis (not /urgence): tier and source
                    self.crisis_answer(stat.choice, stat.dimension or "")

    def unsaved(self, outcome: Outcome) -> None:
        self.saved(outcome)  # counted all the same: the replies go out

    def crisis_answer(self, tier: str, source: str) -> None:
        """Labels are our own words (``Tier``, ``Source``), never what was typed."""
        self.crisis_answers.labels(tier, source).inc()

    def conflict(self) -> None:
        self.conflicts.inc()

    def duplicate(self) -> None:
        self.duplicates.inc()

    # -- exposition ---------------------------------------------------------------------

    def render(self) -> bytes:
        """The Prometheus text format of every metric."""
        return generate_latest(self.registry)

    def value(self, name: str, **labels: str) -> float:
        """One sample's current value (0 if never set), for tests and ``relais`` itself."""
        found = self.registry.get_sample_value(name, labels)
        return found if found is not None else 0.0
