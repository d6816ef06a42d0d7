"""An optimizer run as a trajectory: one row per trial, with the incumbent after it.

The proxy's replays (hpotext.proxy.replay) and the live runs of the proxy check
(hpotext.selection.validate) both write this table; free of torch and scikit-learn.
"""

from __future__ import annotations

TRAJECTORY = (
    "optimizer", "seed", "trial", "fidelity", "epochs_trained", "cost", "objective",
    "incumbent_trial", "incumbent_true", "config",
)  # fmt: skip


Incumbent = tuple[int, float, int]  # (fidelity, objective, trial id)


def better_incumbent(best: Incumbent | None, new: Incumbent) -> Incumbent:
    """The incumbent after a new successful result: the highest fidelity wins, then the lower
    objective, then the earlier trial."""
    if best is None or (new[0], -new[1], -new[2]) > (best[0], -best[1], -best[2]):
        return new
    return best
