"""A crash-safe trial store shared by search workers: an append-only journal under a file lock.

Why a journal and not SQLite: SQLite's locking is unsafe on NFS/Lustre, where cluster workers
share results/. Like Optuna's JournalFileStorage, every change is one JSON line appended to
``journal.jsonl`` while holding ``journal.lock`` (a lock file that works across processes and
nodes), then flushed and fsync'ed. Nothing is ever rewritten, so a crash can at worst leave one
torn last line, which the next writer cuts off under the lock. The trial table and every
optimizer's state are rebuilt by folding (replaying) the events in order.

The events are :class:`hpotext.search.events.Event` records.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import pandas as pd
from filelock import FileLock

from hpotext.errors import ConfigError
from hpotext.io import canonical_json, plain
from hpotext.optimizers.records import Trial
from hpotext.search.events import Event

JOURNAL = "journal.jsonl"


class SettingsChanged(ConfigError):
    """An existing search was started with other settings (``stored``) than asked (``wanted``)."""

    def __init__(self, root: Path, stored: dict[str, Any], wanted: dict[str, Any]) -> None:
        self.root, self.stored, self.wanted = root, stored, wanted
        super().__init__(
            f"the search in {root} was started with different settings "
            f"({', '.join(changed_keys(stored, wanted))}); restore them to continue it"
        )


def changed_keys(stored: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    """Keys whose values differ; a differing mapping names its differing keys (``train.lr``)."""
    out = []
    for key in sorted(set(stored) | set(wanted)):
        old, new = stored.get(key), wanted.get(key)
        if old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict) and key != "space":
            out += [f"{key}.{sub}" for sub in changed_keys(old, new)]
        else:
            out.append(key)
    return out


def next_free(root: Path) -> Path:
    """Where a search in ``root`` is kept when a new one starts: ``<root>.<n>``, the first free."""
    n = 1
    while (root.parent / f"{root.name}.{n}").exists():
        n += 1
    return root.parent / f"{root.name}.{n}"


def stored_meta(root: str | Path) -> dict[str, Any] | None:
    """The settings an existing search in ``root`` was started with (its journal's first line),
    or None when there is none; reads one line, takes no lock."""
    try:
        with open(Path(root) / JOURNAL, "rb") as fh:
            first = fh.readline()
    except FileNotFoundError:
        return None
    if not first.endswith(b"\n"):
        return None
    return Event.from_dict(json.loads(first)).meta


class TrialStore:
    """The journal of one search in ``root`` (results/<exp>/search/)."""

    def __init__(self, root: str | Path, lock_timeout: float = 600.0) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.path = self.root / JOURNAL
        self._lock = FileLock(str(self.root / "journal.lock"), timeout=lock_timeout)
        self._events: list[Event] = []  # parsed journal lines (see read)
        self._offset = 0  # bytes of the journal parsed into _events
        self._inode: int | None = None
        self._folded: dict[int, Trial] = {}  # trials folded from the first _fold_n events
        self._fold_n = 0
        self._fold_last: Event | None = None

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the store's lock (re-entrant within one process)."""
        with self._lock:
            yield

    # --- low-level journal ---------------------------------------------------------------------
    def read(self, start: int = 0) -> list[Event]:
        """Events from index ``start`` on; a torn last line (a crashed writer) is ignored.

        Parsed events are cached: a read parses only the lines appended since the last one
        (searches re-read the journal at every ask and tell, so a full parse each time would
        cost quadratic time in the number of trials).
        """
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._events, self._offset, self._inode = [], 0, None
            return []
        if stat.st_ino != self._inode or stat.st_size < self._offset:  # a new journal
            self._events, self._offset, self._inode = [], 0, stat.st_ino
        if stat.st_size > self._offset:
            with open(self.path, "rb") as fh:
                fh.seek(self._offset)
                tail = fh.read()
            complete = tail[: tail.rfind(b"\n") + 1]  # a torn tail is left for a later read
            self._events.extend(Event.from_dict(json.loads(raw)) for raw in complete.splitlines())
            self._offset += len(complete)
        return self._events[start:]

    def _repair(self) -> None:
        """Cut a torn last line off (call with the lock held). ``read`` leaves ``_offset`` at the
        end of the last complete line, so only the bytes appended since the last read are read."""
        self.read()
        if self._inode is not None and self.path.stat().st_size > self._offset:
            with open(self.path, "r+b") as fh:
                fh.truncate(self._offset)
                fh.flush()
                os.fsync(fh.fileno())

    def append(self, *events: Event) -> None:
        """Append events durably (takes the lock); an event without a time is stamped now."""
        with self.locked():
            self._repair()
            lines = b"".join(
                json.dumps(plain(_stamped(e).to_dict())).encode() + b"\n" for e in events
            )
            with open(self.path, "ab") as fh:
                fh.write(lines)
                fh.flush()
                os.fsync(fh.fileno())

    # --- meta ----------------------------------------------------------------------------------
    def open(self, meta: dict[str, Any], on_change: str = "stop") -> Path | None:
        """Start a new search described by ``meta``, or check an existing one is the same search.

        An existing search with other settings raises ``SettingsChanged`` (``on_change`` "stop"),
        or (``"new"``) is moved aside whole to the first free ``<root>.<n>/`` next to this
        folder and a new search starts here; returns that folder then, else None. The check and
        the move happen under the lock, so of several workers starting at once one moves it and
        the others find the new search.
        """
        with self.locked():
            events = self.read()
            wanted = json.loads(json.dumps(plain(meta)))
            if events:
                stored = events[0].meta
                if stored == wanted:
                    return None
                if on_change != "new":
                    raise SettingsChanged(self.root, stored, wanted)
            kept = self._archive() if events else None
            self.append(Event("meta", meta=meta))
            return kept

    def _archive(self) -> Path:
        """Move this search's journal, checkpoints and collected tables to ``<root>.<n>/``."""
        dest = next_free(self.root)
        dest.mkdir()
        for name in (JOURNAL, "checkpoints", "trials.parquet", "incumbent.json", "space.yaml"):
            if (self.root / name).exists():
                os.replace(self.root / name, dest / name)
        self.read()  # forget the moved journal
        return dest

    def meta(self) -> dict[str, Any]:
        """The settings this search was started with (empty before it starts)."""
        events = self.read(0)
        return events[0].meta if events else {}

    def started_at(self) -> float | None:
        """When this search was started (its meta event's time)."""
        events = self.read(0)
        return events[0].time if events else None

    # --- folding -------------------------------------------------------------------------------
    def trials(self, events: list[Event] | None = None) -> dict[int, Trial]:
        """All trials by id, folded from the journal (or from ``events``, a list from ``read``).

        The fold is cached like the parsed events: a call folds only events it has not seen
        (recognised by the identity of the last event folded; any other list is folded anew).
        Folding replaces a Trial instead of changing it, so a dict handed out stays as it was.
        """
        events = self.read() if events is None else events
        n = self._fold_n
        if not (0 < n <= len(events) and events[n - 1] is self._fold_last):
            self._folded, n = {}, 0
        for event in events[n:]:
            _fold(self._folded, event)
        self._fold_n, self._fold_last = len(events), (events[-1] if events else None)
        return dict(self._folded)

    def table(self) -> pd.DataFrame:
        """trials.parquet: one row per trial, config flattened into ``config.<key>`` columns."""
        rows = []
        for t in self.trials().values():
            row = {
                k: v
                for k, v in asdict(t).items()
                if k not in ("config", "info", "metrics", "reports")
            }
            row["curve"] = list(t.curve)
            row["info"] = canonical_json(t.info)  # the optimizer's bracket, rung, ...
            row.update({f"config.{k}": v for k, v in t.config.items()})
            row.update({f"val_{k}": v for k, v in t.metrics.items()})
            row["objective"] = None if t.objective in (None, float("inf")) else t.objective
            row["stopped_by"], row["symptoms"] = stopped_by(t.stop_reason)
            rows.append(row)
        return pd.DataFrame(rows)


def _stamped(event: Event) -> Event:
    return event if event.time is not None else replace(event, time=time.time())


def _fold(trials: dict[int, Trial], event: Event) -> None:
    """Apply one journal event to ``trials`` (new Trial objects, never changed in place)."""
    if event.kind == "ask" and event.suggestion is not None:
        s = event.suggestion
        trials[s.trial_id] = Trial(
            trial_id=s.trial_id,
            config=s.config,
            fidelity=s.fidelity,
            parent=event.parent,
            worker=str(event.worker),
            asked_at=float(event.time or 0.0),
            info=s.info,
        )
    elif event.kind == "report" and event.trial_id in trials:
        trial = trials[event.trial_id]
        if trial.status == "pending" and event.epoch is not None and event.objective is not None:
            report = (int(event.epoch), float(event.objective), float(event.time or 0.0))
            trials[trial.trial_id] = replace(trial, reports=(*trial.reports, report))
    elif event.kind == "reissue" and event.trial_id is not None:
        trials[event.trial_id] = replace(trials[event.trial_id], worker=str(event.worker))
    elif event.kind == "tell" and event.trial_id is not None and event.result is not None:
        trial = trials[event.trial_id]
        if trial.status != "pending":
            return  # a duplicate tell (crash between tell and bookkeeping) is ignored
        r = event.result
        trials[trial.trial_id] = replace(
            trial, status=r.status, objective=r.objective, epochs_trained=r.epochs_trained,
            cost_seconds=r.cost, stop_reason=r.stop_reason, curve=r.curve, metrics=r.metrics,
            finished_at=event.time,
        )  # fmt: skip


def stopped_by(stop_reason: str | None) -> tuple[str | None, str | None]:
    """(stopper, symptoms) from a stop reason: ("diagnosis", "VG+SC"), ("ema", None), ..."""
    match = re.match(r"^(diagnosis|ema)(?: ([A-Z+]+))?:", stop_reason or "")
    return (match.group(1), match.group(2)) if match else (None, None)
