"""hpotext.workflow.mock: one rule's script run by hand, with the job's own snakemake object."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TREE = ("Snakefile", "rules", "scripts", "hpotext", "config", "envs", "report", "profiles")


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("mock")
    for name in TREE:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, work / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, work / name)
    return work


def mock(work: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "hpotext.workflow.mock", *args]
    return subprocess.run(command, cwd=work, capture_output=True, text=True, timeout=300)


def test_a_rule_runs_by_hand_as_in_its_job(checkout: Path) -> None:
    out = mock(checkout, "default_config", "--configfile", "config/test.yaml")
    assert out.returncode == 0, out.stderr
    written = json.loads((checkout / "results/test/final/default/config.json").read_text())
    from hpotext.space import load

    # the prior config of the test space, the same file the rule writes in a real run
    assert written == {"config": load(ROOT / "config/spaces/test.yaml").default()}
    assert (checkout / "results/test/logs/default_config.log").exists()


def test_the_output_picks_the_job_and_config_overrides_apply(checkout: Path) -> None:
    target = "results/other/final/default/config.json"
    out = mock(checkout, "default_config", target, "--configfile", "config/test.yaml",
               "--config", "experiment=other")  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert (checkout / target).exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nosuch",), "the workflow has no rule 'nosuch'; scripted rules: "),
        (("default_config", "results/x.json"), "no rule writes results/x.json"),
        (("default_config", "--config", "search={workerz: 1}"), "unknown config key"),
        (("default_config", "--config", "oops"), "--config takes KEY=VALUE items"),
    ],
)
def test_bad_input_is_one_sentence(checkout: Path, args: tuple[str, ...], message: str) -> None:
    out = mock(checkout, *args, "--configfile", "config/test.yaml")
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert message in out.stderr.splitlines()[-1]
