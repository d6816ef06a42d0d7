"""Recovery after a kill: the stale-lock check of `python -m hpotext.workflow.resume` and the
clean stop of a step on SIGTERM. The whole flow (kills in every stage, then resume) is in
test_workflow.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hpotext.errors import HpotextError
from hpotext.search.store import TrialStore
from hpotext.workflow.resume import clear_stale_lock, lock_files, running_here

ROOT = Path(__file__).resolve().parent.parent


def fake_lock(workdir: Path) -> Path:
    locks = workdir / ".snakemake" / "locks"
    locks.mkdir(parents=True)
    (locks / "0.input.lock").write_text("results/x\n")
    return locks


def test_no_lock_nothing_to_clear(tmp_path: Path) -> None:
    assert lock_files(tmp_path) == []
    assert clear_stale_lock(tmp_path, []) is False


def test_a_live_run_here_is_not_unlocked(tmp_path: Path) -> None:
    fake_lock(tmp_path)
    # a job script of a run that is still going (its command line names .snakemake/scripts)
    job = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)",
                            ".snakemake/scripts/tmp.search.py"], cwd=tmp_path)  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while not running_here(tmp_path) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [pid for pid, _ in running_here(tmp_path)] == [job.pid]
        with pytest.raises(HpotextError, match=f"still active in .* \\(pid {job.pid}"):
            clear_stale_lock(tmp_path, [])
        assert lock_files(tmp_path)  # untouched
    finally:
        job.kill()
        job.wait()
    assert running_here(tmp_path) == []  # a process elsewhere or gone does not count


def test_a_dead_runs_lock_is_cleared(tmp_path: Path) -> None:
    (tmp_path / "Snakefile").write_text("rule all:\n    output: 'x'\n    shell: 'touch x'\n")
    fake_lock(tmp_path)
    assert clear_stale_lock(tmp_path, ["--cores", "1"]) is True
    assert lock_files(tmp_path) == []


STEP = """
import sys, time
from types import SimpleNamespace
from hpotext.search.store import TrialStore
from hpotext.workflow.scripting import run_step

def step(store):
    with TrialStore(store).locked():
        print("locked", flush=True)
        time.sleep(60)

run_step(SimpleNamespace(log=[sys.argv[2]], threads=1), step, store=sys.argv[1])
"""


def test_sigterm_stops_a_step_cleanly(tmp_path: Path) -> None:
    log = tmp_path / "step.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", STEP, str(tmp_path / "store"), str(log)],
                            env=env, stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 128 + signal.SIGTERM
    assert "stopped by SIGTERM" in log.read_text()
    store = TrialStore(tmp_path / "store", lock_timeout=1.0)
    with store.locked():  # released on the way out, not left to time out
        pass


def test_what_counts_as_part_of_a_run() -> None:
    from hpotext.workflow.resume import of_a_run

    assert of_a_run(["/venv/bin/python", "-m", "snakemake", "--cores", "2"])
    assert of_a_run(["/usr/local/bin/snakemake"])
    assert of_a_run(["python", "/w/.snakemake/scripts/tmpab12.search.py"])
    assert not of_a_run(["make", "run"])
    assert not of_a_run(["python", "-m", "hpotext.workflow.resume"])
    assert not of_a_run([])  # a zombie's or a kernel thread's empty command line


def test_configfiles_are_read_as_snakemake_reads_them() -> None:
    from hpotext.workflow.resume import configfiles

    args = ["--cores", "2", "--configfile", "a.yaml", "b.yaml", "--config", "x=1", "t.json"]
    assert configfiles(args) == ["a.yaml", "b.yaml"]
    assert configfiles(["--configfile=a.yaml", "t.json", "--configfiles", "c.yaml"]) == [
        "a.yaml", "c.yaml"
    ]  # fmt: skip
    assert configfiles(["--configfile", "a.yaml", "results/x.json"])[-1] == "results/x.json"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "config file {f} does not exist; give the path of a YAML config file"),
        ("search: {workers: 2\n", "config file {f} is not valid YAML (line 2, column 1"),
        ("- a list\n", "config file {f} must hold a mapping of keys; fix its YAML"),
    ],
)
def test_a_bad_configfile_is_one_line_and_exit_2(tmp_path: Path, content, message) -> None:
    """Snakemake printed a 25-line traceback for a missing --configfile."""
    name = "my.yaml"
    if content is not None:
        (tmp_path / name).write_text(content)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "hpotext.workflow.resume", "--cores", "1",
                           "--configfile", name], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("hpotext: " + message.format(f=name)), proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_a_target_after_configfile_gets_a_hint(tmp_path: Path) -> None:
    from hpotext.workflow.resume import check_configfiles

    (tmp_path / "a.yaml").write_text("search: {workers: 1}\n")
    with pytest.raises(HpotextError, match="results/x.json does not exist.*put targets before"):
        check_configfiles(["--configfile", str(tmp_path / "a.yaml"), "results/x.json"])
    check_configfiles(["--configfile", str(tmp_path / "a.yaml"), "--cores", "1"])


def test_examples_put_targets_before_options() -> None:
    """`snakemake --configfile a.yaml results/x.json` reads results/x.json as a config file: no
    example in the docs may put a target there, and the README says why once."""
    import re

    from hpotext.workflow.resume import configfiles

    readme = (ROOT / "README.md").read_text()
    assert "reads `results/x.json` as a second config file" in readme
    texts = [readme, (ROOT / "Makefile").read_text()]
    texts += [path.read_text() for path in sorted((ROOT / "docs").glob("*.md"))]
    pattern = re.compile(r"(?:snakemake|hpotext\.resume)\b([^`#\n|]*)")
    commands = [m.group(1) for text in texts for m in pattern.finditer(text)]
    assert len(commands) > 10
    for command in commands:
        if "results/x.json" in command:  # the README's counter-example
            continue
        files = configfiles(command.split())
        assert all(f.endswith((".yaml", ".yml")) for f in files), command
