"""The script boundary: logging to the rule's log file and one-sentence errors for users."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

import torch

from hpotext.errors import HpotextError


def run_step(snakemake: Any, step: Callable[..., Any], **kwargs: Any) -> Any:
    """Send logging and stderr to ``snakemake.log[0]``, set torch threads, run ``step``.

    A user error (HpotextError) is logged and printed as one line, and the job fails with
    exit code 1; Snakemake then removes the job's outputs, so nothing half-written remains.
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
    torch.set_num_threads(max(1, int(getattr(snakemake, "threads", 1))))
    try:
        return step(**kwargs)
    except HpotextError as err:
        logging.getLogger("hpotext").error("%s", err)
        sys.exit(1)
