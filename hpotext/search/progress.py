"""How far a search is: budget used over all workers, an ETA from the recent rate, the incumbent.

Computed from the trial journal alone (trials and events), so a worker logs it after every trial
and ``python -m hpotext.status`` prints the same for a running or finished search.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hpotext.optimizers.records import Trial
    from hpotext.search.driver import Budget
    from hpotext.search.events import Event

UNITS = {"epochs": "epochs", "evaluations": "evaluations", "seconds": "s"}
RECENT = 10  # tells the rate is measured over


@dataclass(frozen=True)
class Progress:
    """One search's progress; ``eta_seconds`` is None until a rate can be measured."""

    kind: str
    used: float
    amount: float
    by_status: dict[str, int]
    incumbent: int | None = None
    objective: float | None = None
    eta_seconds: float | None = None

    @property
    def fraction(self) -> float:
        if math.isinf(self.amount):
            return 0.0
        return min(1.0, self.used / self.amount) if self.amount > 0 else 1.0

    def line(self) -> str:
        """``budget 123/300 epochs (41 %), ETA 2 min 10 s | incumbent trial 7: 0.1234``"""
        unit = UNITS.get(self.kind, self.kind)
        used = f"{self.used:.0f}" if self.kind != "evaluations" else f"{self.used:.1f}"
        if math.isinf(self.amount):
            text = f"{used} {unit} used (the journal records no budget)"
            return text + self._incumbent()
        text = f"budget {used}/{self.amount:g} {unit} ({100 * self.fraction:.0f} %)"
        if self.fraction >= 1.0:
            text += ", spent"
        elif self.eta_seconds is not None:
            text += f", ETA {duration(self.eta_seconds)}"
        return text + self._incumbent()

    def _incumbent(self) -> str:
        if self.incumbent is None or self.objective is None:
            return ""
        return f" | incumbent trial {self.incumbent}: {self.objective:.4f}"


def duration(seconds: float) -> str:
    """``45 s``, ``2 min 10 s``, ``1 h 05 min``."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def _told_units(
    trials: dict[int, Trial], events: list[Event], budget: Budget, max_epochs: int
) -> list[tuple[float, float]]:
    """(time, budget units so far) after each tell, in journal order (epochs-like budgets)."""
    points, total = [], 0.0
    for e in events:
        if e.kind == "tell" and e.trial_id in trials and e.time is not None and e.result:
            epochs = float(e.result.epochs_trained)
            total += epochs if budget.kind == "epochs" else epochs / max_epochs
            points.append((e.time, total))
    return points


def progress(
    trials: dict[int, Trial], events: list[Event], budget: Budget, max_epochs: int, now: float
) -> Progress:
    """The search's progress at ``now`` (the ETA is over the last ``RECENT`` tells)."""
    from hpotext.search.driver import incumbent, wall_seconds

    if budget.kind == "seconds":
        live = any(t.status == "pending" for t in trials.values())
        used = wall_seconds(events, now=now if live else None)
    else:
        used = budget.used(trials, events, max_epochs)
    eta = None
    if math.isinf(budget.amount):
        pass
    elif budget.kind == "seconds":
        eta = max(0.0, budget.amount - used)
    else:
        points = _told_units(trials, events, budget, max_epochs)
        if len(points) >= 2:
            (t0, u0), (t1, u1) = points[max(0, len(points) - 1 - RECENT)], points[-1]
            if t1 > t0 and u1 > u0:
                eta = max(0.0, budget.amount - used) / ((u1 - u0) / (t1 - t0))
    best = incumbent(trials)
    return Progress(
        kind=budget.kind,
        used=used,
        amount=budget.amount,
        by_status=dict(sorted(Counter(t.status for t in trials.values()).items())),
        incumbent=None if best is None else best.trial_id,
        objective=None if best is None else best.objective,
        eta_seconds=eta,
    )
