"""DEHB 0.1.2 behind the ask/tell ``Optimizer`` Protocol.

DEHB runs over the ConfigSpace version of the space (``optimizers._convert.to_configspace``, family
children conditioned on ``model``) with the space's epochs fidelity, one worker and no Dask.
DEHB is deterministic given its seed: it draws only from its own ``numpy.random.Generator`` and
the seeded ConfigurationSpace (never numpy's global generator), so a fresh instance that repeats
the same asks and tells asks the same next job — ``replay`` relies on that and checks it.

DEHB insists on writing a log file (and, by default, checkpoints): the adapter gives it a
temporary directory that is deleted right after construction, never saves (``save_freq="end"``
is only honoured by ``DEHB.run``, which is not used), and mutes DEHB's loguru messages
(DEHB reconfigures loguru globally; the adapter resets it to loguru's default stderr sink and
disables the ``dehb`` module).

``Suggestion.info["dehb"]`` keeps the job's config id, parent slot, bracket and exact float
fidelity (JSON data); the job dict ``tell`` needs lives in an in-memory map that ``replay``
rebuilds, and ``replay`` compares the re-asked job with the recorded one.
DEHB promotes configs between rungs but has no notion of continuing a checkpoint, so
``Suggestion.parent`` is always None; the search driver matches promoted configs to
lower-fidelity checkpoints itself.
"""

from __future__ import annotations

import math
import sys
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hpotext.errors import ConfigError
from hpotext.optimizers._convert import from_configspace, to_configspace
from hpotext.optimizers.base import check_replay
from hpotext.optimizers.records import Result, Suggestion
from hpotext.space.core import Space

# DEHB needs a finite fitness: a failed trial gets this instead of inf (so it counts as
# evaluated but never wins a selection or a promotion).
FAILED_FITNESS = 1e9


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence the DeprecationWarnings DEHB 0.1.2 triggers in ConfigSpace 1.x."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        yield


def _restore_loguru() -> None:
    """Undo DEHB's global loguru set-up (stdout sink + a threaded log file); mute ``dehb``."""
    from loguru import logger

    logger.remove()  # closes DEHB's file sink and stops its writer thread
    logger.add(sys.stderr)  # loguru's own default
    logger.disable("dehb")


class DEHBOptimizer:
    """Differential-evolution Hyperband (DEHB) with epochs as fidelity.

    ``options`` go to ``dehb.DEHB`` (e.g. ``mutation_factor``, ``crossover_prob``,
    ``strategy``); fidelity bounds, eta, seed, workers and output are set here.
    """

    name = "dehb"

    def __init__(self, space: Space, seed: int, **options: Any) -> None:
        fid = space.fidelity
        if fid.min >= fid.max:
            raise ConfigError(
                f"dehb needs a fidelity range (min < max), got min=max={fid.max} epochs; "
                "use a single-fidelity optimizer such as 'random' instead"
            )
        with _quiet():
            from dehb import DEHB

            with tempfile.TemporaryDirectory(prefix="hpotext-dehb-") as tmp:
                try:
                    self._dehb = DEHB(
                        cs=to_configspace(space, seed),
                        min_fidelity=fid.min,
                        max_fidelity=fid.max,
                        eta=fid.eta,
                        n_workers=1,
                        seed=int(seed),
                        output_path=tmp,
                        save_freq="end",
                        log_level="ERROR",
                        **options,
                    )
                finally:
                    _restore_loguru()  # before the directory of its log file goes
        self.space = space
        self.seed = int(seed)
        self._jobs: dict[int, dict[str, Any]] = {}  # trial id -> the DEHB job_info to tell
        self._told: set[int] = set()
        self._asks = 0

    def ask(self) -> Suggestion:
        """The next DEHB job as a Suggestion (fidelity rounded to whole epochs)."""
        with _quiet():
            job = self._dehb.ask()
        config = from_configspace(self.space, job["config"])
        record = {
            "config_id": int(job["config_id"]),
            "parent_id": int(job["parent_id"]),
            "bracket_id": int(job["bracket_id"]),
            "fidelity": float(job["fidelity"]),
        }
        fidelity = int(round(record["fidelity"]))
        fidelity = min(self.space.fidelity.max, max(self.space.fidelity.min, fidelity))
        suggestion = Suggestion(self._asks, config, fidelity, None, {"dehb": record})
        self._jobs[self._asks] = {**job, **record}
        self._asks += 1
        return suggestion

    def replay(self, suggestion: Suggestion) -> None:
        """Re-ask and check that DEHB suggests exactly ``suggestion`` again."""
        check_replay(self.name, suggestion, self.ask(), info_keys=("dehb",))

    def tell(self, suggestion: Suggestion, result: Result) -> None:
        """Report fitness (objective; FAILED_FITNESS when failed) and cost to DEHB.

        A second tell for the same trial is ignored (as the trial store does).
        """
        trial_id = suggestion.trial_id
        if trial_id in self._told:
            return
        job = self._jobs.pop(trial_id, None)
        if job is None:
            raise ValueError(
                f"optimizer 'dehb' never suggested trial {trial_id} "
                f"(it has suggested trials 0..{self._asks - 1})"
            )
        usable = result.ok and math.isfinite(result.objective)
        fitness = float(result.objective) if usable else FAILED_FITNESS
        with _quiet():
            self._dehb.tell(job, {"fitness": fitness, "cost": float(result.cost)})
        self._told.add(trial_id)
