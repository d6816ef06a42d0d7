"""What ``python -m hpotext.status results/<exp>`` reports, read from the study's files only.

Safe while workers write: the trial journal is read without its lock (a torn last line is
skipped) and nothing is written.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hpotext.errors import DataError
from hpotext.search.driver import Budget
from hpotext.search.progress import Progress, progress
from hpotext.search.store import TrialStore

# (stage, the file that exists once it is done), in the order the workflow runs them
STAGES = (
    ("data", "data/search_subset.parquet"),
    ("proxy", "proxy/table.parquet"),
    ("selection", "selection/optimizer.json"),
    ("search", "search/incumbent.json"),
    ("final", "final/chosen.json"),
    ("bundle", "bundle/bundle.json"),
    ("summary", "summary.json"),
)
OPTIONAL = {"proxy", "selection"}  # skipped when search.optimizer names an optimizer
FAILURES = 3  # last failed trials shown


@dataclass
class StudyStatus:
    folder: Path
    stage: str  # the stage after the newest one done, or "finished"
    done: list[str]
    search: Progress | None = None
    workers: list[str] = field(default_factory=list)
    optimizer: str | None = None
    incumbent_config: dict[str, Any] | None = None
    failures: list[str] = field(default_factory=list)
    running: list[str] = field(default_factory=list)  # pending trials' latest reported epoch

    def lines(self) -> list[str]:
        out = [
            f"study {self.folder}: "
            + ("finished" if self.stage == "finished" else f"at stage {self.stage}")
            + f" (done: {', '.join(self.done) or 'none'})"
        ]
        if self.search is not None:
            p = self.search
            counts = ", ".join(f"{n} {s}" for s, n in p.by_status.items()) or "none"
            out.append(
                f"search ({self.optimizer}, workers {', '.join(self.workers) or '-'}): "
                f"trials {counts}"
            )
            out.append(p.line())
            if self.incumbent_config is not None:
                out.append(f"incumbent config: {json.dumps(self.incumbent_config)}")
        out += [f"running: {line}" for line in self.running]
        out += [f"failed: {line}" for line in self.failures]
        return out


def study_status(folder: str | Path, now: float | None = None) -> StudyStatus:
    """The state of the study in ``folder`` (results/<exp>); a DataError when it is none."""
    root = Path(folder)
    journal = root / "search" / "journal.jsonl"
    if (
        not root.is_dir()
        or not any((root / f).exists() for _, f in STAGES)
        and not journal.exists()
    ):
        raise DataError(
            f"{root} is not a study folder (no data/, search/ or summary.json in it); give the "
            "results/<experiment> folder of a study, e.g. results/vader"
        )
    done = [name for name, f in STAGES if (root / f).exists()]
    names = [n for n, _ in STAGES]
    after = names.index(done[-1]) + 1 if done else 0  # the stage after the newest one done
    skipped = OPTIONAL if _skipped(root) else set()
    todo = [n for n in names[after:] if n not in skipped]
    stage = todo[0] if todo else "finished"
    if journal.exists() and "search" not in done:
        stage = "search"  # running (or stopped) mid-search
    status = StudyStatus(root, stage, done)
    if journal.exists():
        _search(status, TrialStore(root / "search"), time.time() if now is None else now)
    return status


def _skipped(root: Path) -> bool:
    """Whether the study skips the optional stages: a named optimizer (its search started
    without a proxy)."""
    return (root / "search" / "journal.jsonl").exists() and not (root / "proxy").exists()


def _search(status: StudyStatus, store: TrialStore, now: float) -> None:
    events = store.read()
    trials = store.trials(events)
    sessions = [e for e in events if e.kind == "session"]
    status.workers = sorted({str(e.worker) for e in sessions if e.worker})
    status.optimizer = store.meta().get("optimizer")
    last = next((e.meta for e in reversed(sessions) if "budget" in e.meta), None)
    if last is not None:
        budget = Budget(str(last["budget"]["kind"]), float(last["budget"]["amount"]))
        max_epochs = int(last["max_epochs"])
    else:  # a journal from before sessions recorded their budget
        budget, max_epochs = Budget("epochs", math.inf), 1
    status.search = progress(trials, events, budget, max_epochs, now)
    best = status.search.incumbent
    if best is not None:
        status.incumbent_config = trials[best].config
    status.running = [
        f"trial {t.trial_id} [{t.worker}]: epoch {t.reports[-1][0]} of {t.fidelity}, "
        f"val accuracy {1.0 - t.reports[-1][1]:.4f}"
        for t in trials.values()
        if t.status == "pending" and t.reports
    ]
    failed = [t for t in trials.values() if t.status in ("failed", "diverged")]
    status.failures = [
        f"trial {t.trial_id} ({t.status}): {t.stop_reason}" for t in failed[-FAILURES:]
    ]
