"""The study on a real SLURM scheduler: a single-node cluster (tests/slurm/cluster.sh) with two
fake GPUs, driven through `--profile profiles/slurm` like a cluster user would.

Needs root (the daemons and /etc/slurm) and the Debian packages munge, slurmctld, slurmd and
slurm-client, which cluster.sh installs with apt. Skipped elsewhere, unless
HPOTEXT_REQUIRE_EXTRAS=1 (as `make test` sets when run as root): then it must run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from tests.test_workflow import copy_workflow

ROOT = Path(__file__).resolve().parent.parent
CLUSTER = ROOT / "tests/slurm/cluster.sh"
pytestmark = pytest.mark.workflow


def can_run_slurm() -> bool:
    return os.geteuid() == 0 and (shutil.which("slurmctld") is not None or shutil.which("apt-get"))


@pytest.fixture(scope="module")
def cluster() -> object:
    if not can_run_slurm():
        if os.environ.get("HPOTEXT_REQUIRE_EXTRAS") == "1":
            pytest.fail("the SLURM test needs root and apt (HPOTEXT_REQUIRE_EXTRAS=1)")
        pytest.skip("the SLURM test needs root and apt (or slurmctld installed)")
    subprocess.run(["bash", str(CLUSTER), "start"], check=True, timeout=600)
    yield
    subprocess.run(["bash", str(CLUSTER), "stop"], check=False, timeout=120)


def job_info(job: str) -> dict[str, str]:
    """What slurmctld remembers of a job (MinJobAge keeps finished ones): `scontrol show job`."""
    out = subprocess.run(["scontrol", "show", "job", "-o", job],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    return dict(field.split("=", 1) for field in out.split() if "=" in field)


def test_study_runs_on_slurm_with_search_workers_as_parallel_jobs(
    cluster: object, tmp_path: Path
) -> None:
    work = copy_workflow(tmp_path / "hpotext")
    cmd = [
        sys.executable, "-m", "snakemake", "--profile", "profiles/slurm",
        "--configfile", "config/test.yaml",
        # no slurmdbd here: squeue answers the status checks (MinJobAge=600 in cluster.sh)
        "--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "5",
        # a named optimizer skips the proxy stage (its cluster jobs are tested locally); a
        # budget in seconds keeps the first worker from spending it before the second starts
        "--config", "search={optimizer: asha, budget: {kind: seconds, amount: 40}}",
        "final={seeds: [0], ensemble_top_k: 1}",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=1500)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]

    summary = json.loads((work / "results/test/summary.json").read_text())
    assert summary["selected_optimizer"]["name"] == "asha"
    assert set(summary["test"]["accuracy"]["per_seed"]) == {"0"}
    assert 0.0 <= summary["test"]["accuracy"]["mean"] <= 1.0
    trials = pd.read_parquet(work / "results/test/search/trials.parquet")
    assert trials["trial_id"].is_unique and (trials["status"] != "pending").all()

    # every job but the local bookkeeping ones went through sbatch
    submitted = dict(re.findall(r"with SLURM jobid (\d+) \(log: \S*/rule_(\w+)/", out))
    rules = set(submitted.values())
    assert {"prepare", "search", "retrain", "evaluate", "summary"} <= rules
    assert not rules & {"default_config", "collect_search"}  # localrules
    search_jobs = [j for j, rule in submitted.items() if rule == "search"]
    assert len(search_jobs) == 2  # one cluster job per worker

    # the two workers ran at the same time, each holding one of the node's two GPUs
    spans = []
    for job in search_jobs:
        info = job_info(job)
        assert info["JobState"] == "COMPLETED" and info["TresPerJob"] == "gres:gpu:1", info
        spans.append((datetime.fromisoformat(info["StartTime"]),
                      datetime.fromisoformat(info["EndTime"])))  # fmt: skip
    (a0, a1), (b0, b1) = spans
    assert a0 < b1 and b0 < a1, f"the search jobs did not overlap: {spans}"
    assert set(trials["worker"]) == {"w0", "w1"}  # both did trials on the shared store
