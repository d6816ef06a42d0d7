"""The trial journal's events as one typed record; each is one JSON line of journal.jsonl.

Kinds: ``meta`` (the first line: what this search is), ``session`` (a worker started), ``ask``
(a suggestion handed to a worker), ``reissue`` (a pending trial handed out again after its
worker died), ``report`` (a running trial's validation objective after one epoch), ``spent`` (a
worker found the budget spent) and ``tell`` (a trial's result).
The JSON form is the journal's: ``{"event": kind, ...the kind's fields, "time": ...}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hpotext.errors import StaleFileError
from hpotext.optimizers.records import Result, Suggestion

KINDS = ("meta", "session", "ask", "reissue", "report", "spent", "tell")
SESSION_META = ("budget", "max_epochs")  # what a session event records besides its worker


@dataclass(frozen=True)
class Event:
    """One journal event; the fields a kind does not use stay None."""

    kind: str
    time: float | None = None  # set when the event is appended
    worker: str | None = None
    session: str | None = None  # the worker process's session id
    trial_id: int | None = None  # reissue, report, tell
    epoch: int | None = None  # report: the epoch just finished (counted from the first)
    objective: float | None = None  # report: the validation objective after it
    suggestion: Suggestion | None = None  # ask
    parent: int | None = None  # ask: the trial whose checkpoint it continues
    result: Result | None = None  # tell
    meta: dict[str, Any] = field(default_factory=dict)  # meta: the search's settings

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"event": self.kind, **self.meta}
        for key in ("worker", "session", "trial_id", "epoch", "objective"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.suggestion is not None:
            out["suggestion"] = self.suggestion.to_dict()
            out["parent"] = self.parent
        if self.result is not None:
            out["result"] = self.result.to_dict()
        out["time"] = self.time
        return out

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Event:
        kind = raw.get("event")
        if kind not in KINDS:
            raise StaleFileError(
                f"a trial journal line has event {kind!r}, not one of {', '.join(KINDS)}; the "
                "journal was not written by this version of hpotext: move its folder away"
            )
        if kind == "meta":
            meta = {k: v for k, v in raw.items() if k not in ("event", "time")}
            return cls(kind, time=raw.get("time"), meta=meta)
        suggestion = Suggestion.from_dict(raw["suggestion"]) if "suggestion" in raw else None
        session_meta = {k: raw[k] for k in SESSION_META if kind == "session" and k in raw}
        return cls(
            kind,
            time=raw.get("time"),
            worker=raw.get("worker"),
            session=raw.get("session"),
            trial_id=raw.get("trial_id"),
            epoch=raw.get("epoch"),
            objective=raw.get("objective"),
            suggestion=suggestion,
            # journals written before parents were recorded: the suggestion's own
            parent=raw.get("parent", suggestion.parent if suggestion else None),
            result=Result.from_dict(raw["result"]) if "result" in raw else None,
            meta=session_meta,
        )
