"""The script boundary: logging to the rule's log file and one-sentence errors for users."""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

from hpotext.errors import HpotextError


def run_step(snakemake: Any, step: Callable[..., Any], **kwargs: Any) -> Any:
    """Send logging and stderr to ``snakemake.log[0]``, set the job's threads, run ``step``.

    This module imports no torch: a CPU-only step (summary, plots, selection) whose module does
    not import it either starts in a fraction of the time. A step that trains has imported
    torch with its module, and gets ``torch.set_num_threads``; OMP_NUM_THREADS covers the rest.

    A user error (HpotextError) is logged and printed as one line, and the job fails with
    exit code 1; Snakemake then removes the job's outputs, so nothing half-written remains.

    SIGTERM (``kill -TERM -- -PGID``, SLURM's scancel or time limit, a service manager) stops the
    step at once but cleanly: it unwinds like an exception, so locks are released and files
    closed, says so in the log and exits with 143. What the step finished is kept (the search's
    trials, retraining's epochs, a proxy shard's configs) and a rerun continues from it.
    """
    log_path = snakemake.log[0] if snakemake.log else None
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.__stderr__)]
    if log_path:
        stream = open(log_path, "a")  # noqa: SIM115 - stays open for the process lifetime
        sys.stderr = stream
        handlers.append(logging.StreamHandler(stream))
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )
    threads = max(1, int(getattr(snakemake, "threads", 1)))
    os.environ["OMP_NUM_THREADS"] = str(threads)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        return step(**kwargs)
    except HpotextError as err:
        logging.getLogger("hpotext").error("%s", err)
        sys.exit(1)


def _stop_on_sigterm(signum: int, frame: object) -> None:
    logging.getLogger("hpotext").warning(
        "stopped by SIGTERM; finished work is kept and a rerun continues from it"
    )
    raise SystemExit(128 + signum)
