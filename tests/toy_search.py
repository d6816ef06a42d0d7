"""A search worker over a toy objective (no training), run as a process by the store tests.

python -m tests.toy_search STORE WORKER OPTIMIZER BUDGET_EPOCHS DELAY [PEERS...]
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

from hpotext import space as space_mod
from hpotext.optimizers import make_optimizer
from hpotext.optimizers.records import Result, Suggestion
from hpotext.search.driver import Budget, SearchWorker
from hpotext.search.store import TrialStore

SPACE = {
    "fidelity": {"min": 1, "max": 9, "eta": 3},
    "hyperparameters": {
        "model": {"type": "categorical", "choices": ["boe", "cnn"], "prior": "cnn"},
        "lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True, "prior": 1e-3},
        "dropout": {"type": "float", "low": 0.0, "high": 0.5, "prior": 0.1},
    },
    "families": {"cnn": {"num_filters": {"type": "int", "low": 8, "high": 64}}},
}


def toy_space() -> space_mod.Space:
    return space_mod.from_dict(SPACE)


def toy_objective(config: dict, fidelity: int) -> float:
    return (math.log10(config["lr"]) + 2.5) ** 2 + config["dropout"] + 1.0 / fidelity


class ToyRunner:
    """Writes a fake checkpoint per epoch and sleeps ``delay`` seconds per epoch trained."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.calls: list[tuple[int, int]] = []  # (trial id, first epoch trained)

    def __call__(self, s: Suggestion, parent_ckpt: Path | None, own_dir: Path) -> Result:
        own = sorted(own_dir.glob("epoch*.pt"))
        start_ckpt = own[-1] if own else parent_ckpt
        start = int(start_ckpt.stem[5:]) if start_ckpt is not None else 0
        parent_epochs = int(parent_ckpt.stem[5:]) if parent_ckpt is not None else 0
        self.calls.append((s.trial_id, start))
        own_dir.mkdir(parents=True, exist_ok=True)
        for epoch in range(start + 1, s.fidelity + 1):
            time.sleep(self.delay)
            (own_dir / f"epoch{epoch:03d}.pt").write_text(str(epoch))
            for old in own_dir.glob("epoch*.pt"):
                if old.stem != f"epoch{epoch:03d}":
                    old.unlink()
        return Result(
            objective=toy_objective(s.config, s.fidelity),
            cost=self.delay * (s.fidelity - parent_epochs),
            epochs_trained=s.fidelity - parent_epochs,
            curve=tuple(toy_objective(s.config, e) for e in range(1, s.fidelity + 1)),
        )


def make_worker(store_dir: str, worker: str, optimizer: str, budget: float,
                peers: tuple[str, ...] = ()) -> SearchWorker:  # fmt: skip
    space = toy_space()
    store = TrialStore(store_dir)
    store.open({"optimizer": optimizer, "seed": 0, "space": space_mod.to_dict(space)})
    return SearchWorker(
        store,
        make_optimizer(optimizer, space, 0),
        worker,
        Budget("epochs", budget),
        max_epochs=space.fidelity.max,
        eta=space.fidelity.eta,
        peers=peers,
        poll_seconds=0.05,
    )


def wait_for_peers(store: TrialStore, peers: tuple[str, ...], timeout: float = 60.0) -> None:
    """Block until every peer has opened a session, so that all of them share the work."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        started = {e.worker for e in store.read() if e.kind == "session"}
        if started >= set(peers):
            return
        time.sleep(0.05)
    raise TimeoutError(f"peers {sorted(set(peers) - started)} never started")


class PeerRunner(ToyRunner):
    """A ToyRunner whose first trial waits for the peers (process start-up is not a race)."""

    def __init__(self, delay: float, store: TrialStore, peers: tuple[str, ...]) -> None:
        super().__init__(delay)
        self.store, self.peers = store, peers

    def __call__(self, s: Suggestion, parent_ckpt: Path | None, own_dir: Path) -> Result:
        if not self.calls:
            wait_for_peers(self.store, self.peers)
        return super().__call__(s, parent_ckpt, own_dir)


if __name__ == "__main__":
    store_dir, worker, optimizer, budget, delay, *peers = sys.argv[1:]
    search = make_worker(store_dir, worker, optimizer, float(budget), tuple(peers))
    search.run(PeerRunner(float(delay), search.store, tuple(peers)))
