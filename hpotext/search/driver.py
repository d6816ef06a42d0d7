"""The search driver: workers share one trial store and one optimizer, rebuilt from the journal.

Each worker process keeps its own replica of the optimizer. Before every ask and tell it takes
the store's lock, replays the journal events it has not seen yet (other workers' asks and
tells, or the whole history after a restart) and only then acts, so all replicas agree and the
search continues exactly where it stopped. The trainer is called through ``run_trial``; this
module knows nothing about models.
"""

from __future__ import annotations

import logging
import math
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from hpotext.errors import ReplayError, SearchError
from hpotext.io import canonical_json
from hpotext.optimizers.base import Optimizer
from hpotext.optimizers.records import Result, Suggestion, Trial
from hpotext.schema import checked, limit
from hpotext.search.events import Event
from hpotext.search.progress import progress
from hpotext.search.store import TrialStore

log = logging.getLogger(__name__)


BUDGET_KINDS = limit("search.budget.kind").choices
# run_trial(suggestion, parent_checkpoint or None, own checkpoint dir) -> Result
TrialFn = Callable[[Suggestion, Path | None, Path], Result]


@dataclass(frozen=True)
class Budget:
    """How much search to do, counted over all workers and restarts.

    ``epochs``: training epochs; ``evaluations``: full-fidelity-equivalent evaluations
    (epochs / max fidelity); ``seconds``: wall-clock time during which any worker was running.
    """

    kind: str
    amount: float

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> Budget:
        """The ``search.budget`` config section, checked against config/schema.yaml."""
        values = checked("search.budget", raw)
        return cls(str(values["kind"]), float(values["amount"]))

    def used(self, trials: dict[int, Trial], events: list[Event], max_epochs: int) -> float:
        if self.kind == "seconds":
            return wall_seconds(events, now=time.time())
        epochs = sum(t.epochs_trained for t in trials.values())
        # pending work is committed: count it so N workers do not overshoot the budget together
        epochs += sum(_pending_epochs(t, trials) for t in trials.values() if t.status == "pending")
        return epochs if self.kind == "epochs" else epochs / max_epochs


def _pending_epochs(trial: Trial, trials: dict[int, Trial]) -> int:
    start = trials[trial.parent].fidelity if trial.parent in trials else 0
    return max(0, trial.fidelity - start)


def wall_seconds(events: list[Event], now: float | None = None) -> float:
    """Length of the union of worker sessions (first .. last event of each session).

    With ``now``, the session of the newest event is taken to be still running until ``now``.
    """
    spans: dict[str, list[float]] = {}
    for e in events:
        if e.session is not None and e.time is not None:
            span = spans.setdefault(e.session, [e.time, e.time])
            span[1] = max(span[1], e.time)
    if now is not None and spans:
        newest = max(spans.values(), key=lambda span: span[1])
        newest[1] = max(newest[1], now)
    total, end = 0.0, -math.inf
    for start, stop in sorted(spans.values()):
        if stop > end:
            total += stop - max(start, end)
            end = stop
    return total


def checkpoint_dir(root: Path, trial_id: int) -> Path:
    return root / "checkpoints" / f"trial{trial_id:05d}"


class SearchWorker:
    """One worker of a search: ask, run, tell, until the budget is spent."""

    def __init__(
        self,
        store: TrialStore,
        optimizer: Optimizer,
        worker: str,
        budget: Budget,
        max_epochs: int,
        eta: int,
        peers: tuple[str, ...] = (),
        max_consecutive_failures: int = 5,
        poll_seconds: float = 1.0,
        continuation: bool = True,
    ) -> None:
        self.store, self.optimizer, self.worker = store, optimizer, worker
        self.budget, self.max_epochs, self.eta = budget, max_epochs, eta
        self.max_failures = max_consecutive_failures
        self.poll = poll_seconds
        self.continuation = continuation  # False: promoted trials train from scratch
        self.peers = set(peers) | {
            worker
        }  # workers of this run; others' pending trials are adopted
        self.session = uuid.uuid4().hex[:12]
        self.applied = 0  # journal events already replayed into the optimizer
        self.suggestions: dict[int, Suggestion] = {}
        self.told: set[int] = set()

    # --- journal sync --------------------------------------------------------------------------
    def _sync(self) -> tuple[list[Event], dict[int, Trial]]:
        """Replay unseen events into the optimizer (call with the lock held)."""
        events = self.store.read()
        for event in events[self.applied :]:
            if event.kind == "ask" and event.suggestion is not None:
                s = event.suggestion
                self.suggestions[s.trial_id] = s
                try:
                    self.optimizer.replay(s)
                except ReplayError as err:
                    raise ReplayError(f"{self.store.root}: {err}") from None
            elif event.kind == "tell" and event.trial_id not in self.told:
                assert event.trial_id is not None and event.result is not None
                self.told.add(event.trial_id)
                self.optimizer.tell(self.suggestions[event.trial_id], event.result)
        self.applied = len(events)
        return events, self.store.trials(events)

    def _emit(self, event: Event) -> None:
        self.store.append(replace(event, worker=self.worker, session=self.session))
        self.applied += 1

    # --- ask -----------------------------------------------------------------------------------
    def start(self) -> None:
        with self.store.locked():
            self._sync()
            # the budget this session runs to, for hpotext.status (not a setting of the search:
            # a budget may grow between sessions)
            budget = {"kind": self.budget.kind, "amount": self.budget.amount}
            self._emit(Event("session", meta={"budget": budget, "max_epochs": self.max_epochs}))

    def next(self) -> Trial | None:
        """The next trial this worker should run, or None when the search is done."""
        while True:
            with self.store.locked():
                events, trials = self._sync()
                self._check_failures(trials)
                pending = [t for t in trials.values() if t.status == "pending"]
                mine = [t for t in pending if t.worker not in self.peers - {self.worker}]
                if mine:  # its worker died mid-trial: run it again, continuing its checkpoint
                    trial = mine[0]
                    self._emit(Event("reissue", trial_id=trial.trial_id))
                    log.info("trial %d was interrupted; running it again", trial.trial_id)
                    return trial
                if self.budget.used(trials, events, self.max_epochs) >= self.budget.amount:
                    # stamp the moment: a wall-clock budget found spent stays spent on restart
                    self._emit(Event("spent"))
                    return None
                s = self.optimizer.ask()
                if s is not None:
                    parent = s.parent if s.parent is not None else _continuable(s, trials)
                    self.suggestions[s.trial_id] = s
                    self._emit(Event("ask", suggestion=s, parent=parent))
                    return self.store.trials()[s.trial_id]
                if not pending:
                    return None  # nothing pending and nothing to suggest: the optimizer is done
            time.sleep(self.poll)  # wait for another worker's trial to finish a rung

    def _check_failures(self, trials: dict[int, Trial]) -> None:
        told = sorted(
            (t for t in trials.values() if t.status != "pending"),
            key=lambda t: t.finished_at or 0.0,
        )
        streak = 0
        for t in reversed(told):
            if t.status != "failed":
                break
            streak += 1
        if streak >= self.max_failures:
            last = told[-1]
            raise SearchError(
                f"the last {streak} trials failed (latest, trial {last.trial_id}: "
                f"{last.stop_reason}); fix the cause shown in the search log and rerun to continue"
            )

    # --- report and tell -----------------------------------------------------------------------
    def report(self, suggestion: Suggestion, epoch: int, objective: float) -> None:
        """Record a running trial's validation objective after ``epoch`` (the trial stays
        pending): status, the dashboard and benchmarks see every epoch, not only rung ends."""
        if math.isfinite(objective):
            self.store.append(Event("report", trial_id=suggestion.trial_id, epoch=epoch,
                                    objective=objective, worker=self.worker,
                                    session=self.session))  # fmt: skip

    def tell(self, trial: Trial, result: Result) -> Trial | None:
        """Record a result (ignored if the trial was already told); returns the incumbent."""
        with self.store.locked():
            _, trials = self._sync()
            if trials[trial.trial_id].status != "pending":
                log.warning("trial %d was already told; keeping the first result", trial.trial_id)
                return incumbent(trials)
            self._emit(Event("tell", trial_id=trial.trial_id, result=result))
            self.told.add(trial.trial_id)
            self.optimizer.tell(self.suggestions[trial.trial_id], result)
            trials = self.store.trials()
            collect_checkpoints(self.store.root, trials, self.max_epochs, self.eta)
            return incumbent(trials)

    def run(self, run_trial: TrialFn) -> int:
        """Run trials until the budget is spent; returns how many this worker finished."""
        self.start()
        done = 0
        while (trial := self.next()) is not None:
            parent_ckpt = (
                _checkpoint_of(self.store.root, trial.parent) if self.continuation else None
            )
            result = run_trial(
                trial.suggestion, parent_ckpt, checkpoint_dir(self.store.root, trial.trial_id)
            )
            self.tell(trial, result)
            done += 1
            line = (
                f"trial {trial.trial_id} [{self.worker}] {result.status} at {trial.fidelity} ep "
                f"(+{result.epochs_trained}, {result.cost:.1f}s): objective {result.objective:.4f}"
            )
            events = self.store.read()  # no lock: a line written a moment later is not counted
            now = progress(self.store.trials(events), events, self.budget, self.max_epochs,
                           time.time())  # fmt: skip
            log.info("%s | %s", line, now.line())
        return done


def accuracies_at(trials: dict[int, Trial], epoch: int) -> list[float]:
    """Validation accuracy after ``epoch`` epochs of every finished trial that got that far."""
    return [
        1.0 - t.curve[epoch - 1]
        for t in trials.values()
        if t.status in ("completed", "stopped") and len(t.curve) >= epoch
    ]


def comparables(store: TrialStore) -> Callable[[int], list[float]]:
    """``epoch -> accuracies_at(...)`` over the store's current trials (for early stopping).

    Reads the journal without the lock: a torn last line is skipped, and a trial told a moment
    later is simply not counted yet.
    """
    return lambda epoch: accuracies_at(store.trials(), epoch)


def _continuable(s: Suggestion, trials: dict[int, Trial]) -> int | None:
    """A finished lower-fidelity trial of the same config whose checkpoint this one can continue."""
    same = [
        t
        for t in trials.values()
        if t.config == s.config and t.fidelity < s.fidelity and t.status == "completed"
    ]
    return max(same, key=lambda t: t.fidelity).trial_id if same else None


def _checkpoint_of(root: Path, trial_id: int | None) -> Path | None:
    if trial_id is None:
        return None
    ckpts = sorted(checkpoint_dir(root, trial_id).glob("epoch*.pt"))
    return ckpts[-1] if ckpts else None


def ranked_configs(trials: dict[int, Trial]) -> list[Trial]:
    """One trial per distinct config that succeeded, best first: higher fidelity first, then
    lower objective (then the earlier trial); each config's best-ranked trial stands for it."""
    ok = [
        t
        for t in trials.values()
        if t.status in ("completed", "stopped")
        and t.objective is not None
        and math.isfinite(t.objective)
    ]
    ok.sort(key=lambda t: (-t.fidelity, t.objective, t.trial_id))
    seen: set[str] = set()
    found = []
    for t in ok:
        key = canonical_json(t.config)
        if key not in seen:
            seen.add(key)
            found.append(t)
    return found


def incumbent(trials: dict[int, Trial]) -> Trial | None:
    """Best trial at the highest fidelity reached by any successful trial."""
    ranked = ranked_configs(trials)
    return ranked[0] if ranked else None


def collect_checkpoints(root: Path, trials: dict[int, Trial], max_epochs: int, eta: int) -> int:
    """Delete checkpoints no optimizer can promote any more; returns how many folders went.

    Kept: pending trials' own folders, parents of pending trials, and at every fidelity below
    the maximum the best ceil(n / eta) successful trials not yet continued. Gone: full-fidelity
    and failed trials (the winner is retrained from scratch) and the rest, so disk use stays
    bounded by about 1/eta of the trials at each rung. An optimizer that later promotes a
    trial whose checkpoint is gone (its rank rose as the rung grew) gets it trained from scratch:
    correct, only slower, and its recorded cost says so.
    """
    keep = {t.trial_id for t in trials.values() if t.status == "pending"}
    keep |= {t.parent for t in trials.values() if t.status == "pending" and t.parent is not None}
    continued = {t.parent for t in trials.values() if t.parent is not None}
    by_fidelity: dict[int, list[Trial]] = {}
    for t in trials.values():
        if t.status == "completed" and t.fidelity < max_epochs and t.objective is not None:
            by_fidelity.setdefault(t.fidelity, []).append(t)
    for group in by_fidelity.values():
        quota = math.ceil(len(group) / eta)
        open_ = [t for t in sorted(group, key=lambda t: (t.objective, t.trial_id))
                 if t.trial_id not in continued]  # fmt: skip
        keep |= {t.trial_id for t in open_[:quota]}
    removed = 0
    for folder in _checkpoint_folders(root):
        trial_id = int(folder.name[len("trial") :])
        if trial_id in trials and trial_id not in keep:
            for path in folder.glob("*"):
                path.unlink(missing_ok=True)
            folder.rmdir()
            removed += 1
    return removed


def _checkpoint_folders(root: Path) -> list[Path]:
    """The trial checkpoint folders that exist (few: collect_checkpoints keeps it so)."""
    parent = checkpoint_dir(root, 0).parent
    if not parent.is_dir():
        return []
    return [p for p in parent.iterdir() if re.fullmatch(r"trial\d+", p.name) and p.is_dir()]
