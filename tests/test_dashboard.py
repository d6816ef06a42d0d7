"""python -m hpotext.dashboard: optuna-dashboard on a study's mirrored trials, kept up to date."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from hpotext.dashboard.__main__ import main
from hpotext.optimizers.records import Result, Suggestion
from hpotext.search.events import Event
from tests.toy_search import ToyRunner, make_worker

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--virtual-time-budget=10000",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def api(port: int, path: str) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
        return json.loads(r.read())


def trials_listed(port: int) -> list[dict]:
    return api(port, "/api/studies/0?after=0")["trials"]


@pytest.fixture
def served(tmp_path: Path):
    """A finished toy search served on a free port; yields (study folder, store, port)."""
    study = tmp_path / "results" / "toy"
    worker = make_worker(str(study / "search"), "w0", "hyperband", 20)
    worker.run(ToyRunner(0.0))
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "hpotext.dashboard",
        str(study),
        "--port",
        str(port),
        "--interval",
        "0.3",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                api(port, "/api/studies")
                break
            except OSError:
                time.sleep(0.2)
        yield study, worker.store, port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_dashboard_serves_the_trials_and_follows_the_search(served) -> None:
    study, store, port = served
    assert [s["study_name"] for s in api(port, "/api/studies")["study_summaries"]] == ["toy"]
    n = len(store.trials())
    listed = trials_listed(port)
    assert len(listed) == n and {t["state"] for t in listed} == {"Complete"}
    # a trial finishing while the dashboard runs appears without a restart, as pruned
    config = {"model": "boe", "lr": 0.01, "dropout": 0.1}
    store.append(Event("ask", worker="w1", suggestion=Suggestion(n, config, 3)))
    store.append(
        Event(
            "tell",
            trial_id=n,
            result=Result(
                0.4, 1.0, 2, status="stopped", stop_reason="ema: trend", curve=(0.5, 0.4)
            ),
        )
    )
    for _ in range(50):
        listed = trials_listed(port)
        if len(listed) == n + 1:
            break
        time.sleep(0.2)
    assert len(listed) == n + 1 and listed[-1]["state"] == "Pruned"
    assert [v["value"] for v in listed[-1]["intermediate_values"]] == [0.5, 0.4]
    # the trial store is untouched: the mirror is a file of its own
    assert (study / "dashboard" / "optuna_journal.log").exists()
    assert sorted(p.name for p in (study / "search").iterdir() if p.is_file()) == [
        "journal.jsonl",
        "journal.lock",
    ]


def test_dashboard_lists_the_trials_in_headless_chromium(served, tmp_path: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        if os.environ.get("HPOTEXT_REQUIRE_EXTRAS"):
            pytest.fail("chromium is missing; make test installs it (apt) when run as root")
        pytest.skip("needs chromium (make test installs it when run as root)")
    _, store, port = served
    out = subprocess.run(
        [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            f"http://127.0.0.1:{port}/dashboard/studies/0/trials",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    for number in range(len(store.trials())):
        assert f"Trial {number}" in out.stdout


def test_dashboard_bad_input_is_one_sentence(tmp_path: Path, capsys) -> None:
    (tmp_path / "empty").mkdir()
    assert main([str(tmp_path / "empty"), "--port", str(free_port())]) == 1
    err = capsys.readouterr().err
    assert "has no search" in err and err.count("\n") == 1
    study = tmp_path / "toy"
    make_worker(str(study / "search"), "w0", "random", 3).run(ToyRunner(0.0))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main([str(study), "--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert f"port {port} on 127.0.0.1 is in use" in err and err.count("\n") == 1
    assert not (study / "dashboard").exists()  # nothing half-written
