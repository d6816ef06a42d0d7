"""Typed records shared by optimizers, the trial store and the search driver."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

STATUSES = ("pending", "completed", "stopped", "failed", "diverged")


@dataclass(frozen=True)
class Suggestion:
    """A config to evaluate at ``fidelity`` epochs.

    ``parent`` is the trial whose checkpoint this one continues (trains only the missing epochs);
    ``info`` is optimizer-private bookkeeping (bracket, rung, ...) that must survive a restart.
    """

    trial_id: int
    config: dict[str, Any]
    fidelity: int
    parent: int | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Suggestion:
        return cls(**raw)


@dataclass(frozen=True)
class Result:
    """The outcome of one trial. ``objective`` is minimised: validation error (1 - accuracy).

    ``curve`` holds the objective after every epoch the trial's model has seen (continued trials
    include their parent's epochs); ``epochs_trained`` and ``cost`` count only this trial's work.
    A failed or diverged trial has ``objective`` = inf (NaN never reaches an optimizer).
    """

    objective: float
    cost: float
    epochs_trained: int
    status: str = "completed"
    stop_reason: str | None = None
    curve: tuple[float, ...] = ()
    metrics: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in STATUSES[1:]:
            raise ValueError(f"result status must be one of {STATUSES[1:]}, got {self.status!r}")

    @property
    def ok(self) -> bool:
        return self.status in ("completed", "stopped")

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["curve"] = list(self.curve)
        return out

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Result:
        raw = dict(raw)
        raw["curve"] = tuple(raw.get("curve") or ())
        return cls(**raw)


@dataclass
class Trial:
    """One row of trials.parquet: a suggestion, who ran it and (once told) its result."""

    trial_id: int
    config: dict[str, Any]
    fidelity: int
    parent: int | None
    worker: str
    asked_at: float
    status: str = "pending"
    objective: float | None = None
    epochs_trained: int = 0
    cost_seconds: float = 0.0
    stop_reason: str | None = None
    curve: tuple[float, ...] = ()
    metrics: dict[str, float] = field(default_factory=dict)
    finished_at: float | None = None
    info: dict[str, Any] = field(default_factory=dict)
    # (epoch, objective, time) after each epoch this trial trained, reported as it ran
    reports: tuple[tuple[int, float, float], ...] = ()

    @property
    def suggestion(self) -> Suggestion:
        return Suggestion(self.trial_id, self.config, self.fidelity, self.parent, self.info)

    @property
    def result(self) -> Result | None:
        if self.status == "pending":
            return None
        return Result(
            objective=float("inf") if self.objective is None else self.objective,
            cost=self.cost_seconds,
            epochs_trained=self.epochs_trained,
            status=self.status,
            stop_reason=self.stop_reason,
            curve=self.curve,
            metrics=self.metrics,
        )
