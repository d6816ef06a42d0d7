"""End to end: config/test.yaml through Snakemake in a temp copy of the workflow."""

from __future__ import annotations

import contextlib
import html
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import yaml

from hpotext.report.render import DECIDED
from hpotext.workflow.resume import lock_files, running_here

ROOT = Path(__file__).resolve().parent.parent
SKIP = shutil.ignore_patterns(
    ".venv", ".git", "results", "resources", ".snakemake", "__pycache__", ".*_cache", "*.egg-info"
)
pytestmark = pytest.mark.workflow
FIGURES = ("learning_curves", "confusion", "search_trace", "trial_curves", "boundary",
           "importance", "marginals", "compute")  # fmt: skip
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--no-first-run", "--virtual-time-budget=10000")  # fmt: skip


def copy_workflow(dest: Path) -> Path:
    shutil.copytree(ROOT, dest, ignore=SKIP)
    return dest


def snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    cmd = [sys.executable, "-m", "snakemake", "--cores", "2", "--resources", "gpu=1", *args]
    proc = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True, timeout=900)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        )
    return proc


def start(workdir: Path, *args: str, resume: bool = True) -> subprocess.Popen[str]:
    """Start the study in its own process group, on the one-machine profile; ``resume``: through
    the documented recovery command (`make run` and `make resume` run it), else plain Snakemake."""
    entry = ["-m", "hpotext.workflow.resume"] if resume else ["-m", "snakemake"]
    cmd = [sys.executable, *entry, "--profile", "profiles/local", *args]
    env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(workdir)}
    out = open(workdir / "run.log", "a")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(cmd, cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)  # fmt: skip


def journal(workdir: Path) -> list[dict]:
    path = workdir / "results/test/search/journal.jsonl"
    events = []
    for line in path.read_text().splitlines() if path.exists() else []:
        with contextlib.suppress(json.JSONDecodeError):  # a torn last line, being written
            events.append(json.loads(line))
    return events


def told(workdir: Path) -> dict[int, dict]:
    return {e["trial_id"]: e["result"] for e in journal(workdir) if e["event"] == "tell"}


def searching(workdir: Path, more_than: int) -> bool:
    """The search is under way: more than ``more_than`` trials told and one still running."""
    asked = {e["suggestion"]["trial_id"] for e in journal(workdir) if e["event"] == "ask"}
    done = told(workdir)
    return len(done) > more_than and bool(asked - set(done))


def proxy_shard_half_done(workdir: Path) -> bool:
    partial = (workdir / "results/test/proxy").glob("table_shard*.partial.jsonl")
    return any(p.read_text().count("\n") >= 1 for p in partial)


def retraining_tuned(workdir: Path) -> bool:
    final = workdir / "results/test/final/tuned"
    started = list((workdir / "results/test/logs").glob("retrain_tuned_seed*.log"))
    return bool(started) and len(list(final.glob("seed*/model.pt"))) < 2


def interrupt(proc: subprocess.Popen[str], workdir: Path, until: Callable[[], bool],
              sig: signal.Signals) -> dict:  # fmt: skip
    """Wait for ``until``, then send ``sig`` to the run's whole process group."""
    deadline = time.monotonic() + 600
    while not until():
        assert proc.poll() is None, "the run ended before the stage: " + tail(workdir)
        assert time.monotonic() < deadline, "the stage never came: " + tail(workdir)
        time.sleep(0.05)
    checkpoints = [str(p) for p in (workdir / "results/test/final").rglob("*.pt")]
    record = {"signal": sig.name, "told": told(workdir), "checkpoints": checkpoints}
    sent = time.monotonic()
    os.killpg(proc.pid, sig)
    record["returncode"] = proc.wait(timeout=120)
    record["seconds_to_stop"] = time.monotonic() - sent
    record["locks"] = [p.name for p in lock_files(workdir)]
    record["left_running"] = running_here(workdir)
    return record


def tail(workdir: Path) -> str:
    return (workdir / "run.log").read_text()[-4000:]


KILLS: dict[str, dict] = {}


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny test study (real data fetched from PyPI, 800 rows, BoE/CNN, 2 seeds), run the
    way a flaky machine would: SIGKILLed in the proxy stage, in the search and in retraining,
    SIGTERMed in the search, each time continued with the recovery command README documents.
    Every test of the study's outputs below checks what that resumed run wrote."""
    work = copy_workflow(tmp_path_factory.mktemp("wf") / "hpotext")
    args = ("--configfile", "config/test.yaml")
    stages = [
        ("proxy", lambda: proxy_shard_half_done(work), signal.SIGKILL),
        # early in the search (12 epochs, a few seconds on an idle machine): a trial told and
        # one running; then, after the resume, one more told and one running
        ("search", lambda: searching(work, 0), signal.SIGKILL),
        ("search_term", lambda: searching(work, len(KILLS["search"]["told"])), signal.SIGTERM),
        ("retrain", lambda: retraining_tuned(work), signal.SIGKILL),
    ]  # fmt: skip
    for name, until, sig in stages:
        # after a SIGTERM the lock is released: plain Snakemake starts again
        resume = not KILLS or KILLS[list(KILLS)[-1]]["signal"] == "SIGKILL"
        KILLS[name] = interrupt(start(work, *args, resume=resume), work, until, sig)
    last = start(work, *args)
    assert last.wait(timeout=900) == 0, tail(work)
    return work


def test_study_writes_summary_with_test_scores(study: Path) -> None:
    summary = json.loads((study / "results/test/summary.json").read_text())
    assert summary["experiment"] == "test"
    assert summary["dataset"]["rows"] == 800
    assert summary["dataset"]["classes"] == ["negative", "positive"]
    assert summary["dataset"]["splits"] == {"train": 640, "val": 80, "test": 80}
    assert summary["dataset"]["search_subset_rows"] == 256  # 40 % of train
    for key in ("test", "default_config_test"):
        test = summary[key]
        assert test["seeds"] == [0, 1]
        assert 0.0 <= test["accuracy"]["mean"] <= 1.0
        assert set(test["accuracy"]["per_seed"]) == {"0", "1"}
    assert 0.5 < summary["tfidf_baseline_test"]["accuracy"] <= 1.0
    assert summary["default_config"] == {
        "model": "boe",
        "lr": 0.01,
        "token_drop": 0.1,
        "embed_dim": 16,
    }
    assert summary["best_config"]["model"] in ("boe", "cnn")
    picked = json.loads((study / "results/test/selection/optimizer.json").read_text())
    assert summary["selected_optimizer"] == {k: picked[k] for k in ("name", "reason", "rule")}
    assert picked["rule"] in ("proxy", "fallback") and picked["proxy_best"] in picked["mean_ranks"]
    assert picked["name"] in ("random", "asha", "dehb")  # proxy.optimizers of config/test.yaml
    assert 0.0 < summary["proxy_share"] < 1.0
    search = summary["search"]
    assert search["trials"] >= 4 and search["completed"] + search["failed"] <= search["trials"]
    assert search["epochs_trained"] >= 12  # the budget, counted over both workers
    assert 0.0 < search["best_val"] <= 1.0
    cmp = summary["tuned_vs_default"]["accuracy"]
    assert cmp["mean_difference"] == pytest.approx(
        summary["test"]["accuracy"]["mean"] - summary["default_config_test"]["accuracy"]["mean"]
    )
    stages = summary["stage_seconds"]
    assert {"fetch", "prepare", "subset", "search", "retrain", "evaluate", "tfidf"} <= set(stages)
    assert {"proxy_table", "proxy_surrogate", "proxy_run", "select_optimizer"} <= set(stages)
    assert stages["total"] == pytest.approx(
        sum(v for k, v in stages.items() if k != "total"), abs=0.1
    )
    md = (study / "results/test/summary.md").read_text()
    assert "TF-IDF" in md and "Mean ± std over 2 seeds" in md and "Goal" in md
    assert f"Optimizer **{picked['name']}** ({DECIDED[picked['rule']]})" in md
    for section in ("## Test scores", "## Search", "Best config", "## What mattered",
                    "## Compute per stage"):  # fmt: skip
        assert section in md
    assert summary["importance"]["top"] and "boundary" in summary


def test_study_outputs_are_complete(study: Path) -> None:
    res = study / "results/test"
    for variant in ("tuned", "default"):
        for seed in (0, 1):
            run = res / f"final/{variant}/seed{seed}"
            curve = pd.read_parquet(run / "curve.parquet")
            assert list(curve["epoch"]) == [1, 2, 3] and curve["best"].sum() == 1  # max fidelity
            assert not (run / "checkpoints").exists()  # cleaned after training
            metrics = json.loads((run / "test_metrics.json").read_text())
            assert sum(map(sum, metrics["confusion"])) == 80
    for png in FIGURES:
        assert (res / "report" / f"{png}.png").read_bytes()[:4] == b"\x89PNG"
    importance = json.loads((res / "importance/importance.json").read_text())
    assert importance["fidelity"] in (1, 3) and importance["backend"] == "optuna"
    table = pd.read_parquet(res / "importance/importance.parquet")
    assert set(table["method"]) <= {"fanova", "ped_anova"} and (table["importance"] >= 0).all()
    assert (study / "resources/data/vader.parquet").exists()
    trials = pd.read_parquet(res / "search/trials.parquet")
    assert trials["trial_id"].is_unique and set(trials["worker"]) <= {"w0", "w1"}
    assert {
        "config.model",
        "config.lr",
        "fidelity",
        "epochs_trained",
        "objective",
        "cost_seconds",
        "status",
        "stop_reason",
        "worker",
        "parent",
    } <= set(trials.columns)
    assert (trials["status"] != "pending").all()
    incumbent = json.loads((res / "search/incumbent.json").read_text())
    assert incumbent["trial_id"] in set(trials["trial_id"])
    log = (res / "logs/search_w0.log").read_text() + (res / "logs/search_w1.log").read_text()
    finished = sum(json.loads((res / f"search/workers/{w}.json").read_text())
                   ["trials_finished_this_run"] for w in ("w0", "w1"))  # fmt: skip
    # one progress line per trial finished by the last run (a rerun job starts a new log)
    assert log.count("incumbent trial") == finished > 0


def test_the_study_bundle_predicts_new_texts_through_the_predict_rule(study: Path) -> None:
    from hpotext.predict.bundle import Bundle

    res = study / "results/test"
    chosen = json.loads((res / "final/chosen.json").read_text())
    candidates = ("tuned", "default", "runner1", "ensemble")  # final.ensemble_top_k: 2
    assert chosen["variant"] in candidates and "validation accuracy" in chosen["reason"]
    assert set(chosen["val_accuracy"]) == set(candidates)
    for variant, seeds in (("tuned", 2), ("default", 2), ("runner1", 1)):
        ensemble = json.loads((res / f"final/{variant}/ensemble.json").read_text())
        assert ensemble["test"]["members"] == seeds and set(ensemble) == {"variant", "val", "test"}
    runner = json.loads((res / "final/runner1/config.json").read_text())
    incumbent = json.loads((res / "search/incumbent.json").read_text())
    assert runner["rank"] == 1 and runner["config"] != incumbent["config"]
    assert runner["val_accuracy"] <= incumbent["val_accuracy"] or runner["fidelity"] < incumbent[
        "fidelity"]  # fmt: skip
    top = json.loads((res / "final/ensemble/ensemble.json").read_text())
    assert set(top["weights"]) <= {"tuned", "default", "runner1"}
    assert sum(top["weights"].values()) == pytest.approx(1.0)
    summary = json.loads((res / "summary.json").read_text())
    assert set(summary["seed_ensemble"]) == {"tuned", "default", "runner1"}
    assert summary["top_k_ensemble"]["weights"] == top["weights"]
    assert summary["bundle"] == chosen and chosen["speed"]["batch_texts_per_second"] > 0
    md = (res / "summary.md").read_text()
    assert "### Seed ensembles" in md and "texts/s in batches of 256" in md
    assert "| runner-up 1 (1 seed) |" in md and "Top-k ensemble (greedy selection" in md
    new = study / "new_texts.csv"
    pd.DataFrame({"id": [1, 2], "text": ["a wonderful film", "dull and far too long"]}).to_csv(
        new, index=False
    )
    snakemake(study, "--configfile", "config/test.yaml", "--config", "predict=new_texts.csv")
    out = pd.read_csv(res / "predictions/new_texts.csv")
    assert list(out.columns) == ["id", "text", "label", "prob_negative", "prob_positive"]
    probs = Bundle(res / "bundle", "cpu").predict_proba(list(out["text"]))
    assert out[["prob_negative", "prob_positive"]].to_numpy() == pytest.approx(probs, rel=1e-5)
    # the seeds' test probabilities the evaluate rule kept are the bundle's members'
    test = pd.read_parquet(res / "data/test.parquet")
    members = Bundle(res / "bundle", "cpu").member_probabilities(list(test["text"]))
    manifest = json.loads((res / "bundle/bundle.json").read_text())
    for k, member in enumerate(manifest["members"]):
        variant = manifest["models"][member["model"]]["variant"]
        saved = pd.read_parquet(res / f"final/{variant}/seed{member['seed']}/predictions.parquet")
        saved = saved[saved["split"] == "test"].sort_values("row")
        kept = saved[["prob_negative", "prob_positive"]].to_numpy()
        assert members[k] == pytest.approx(kept, abs=1e-5)


def test_rerun_has_nothing_to_do(study: Path) -> None:
    proc = snakemake(study, "--configfile", "config/test.yaml", "-n")
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_kill_anywhere_keeps_every_finished_trial_once(study: Path) -> None:
    events = journal(study)
    tells = [e["trial_id"] for e in events if e["event"] == "tell"]
    assert len(tells) == len(set(tells))  # told exactly once, across four interruptions
    trials = pd.read_parquet(study / "results/test/search/trials.parquet").set_index("trial_id")
    assert (trials["status"] != "pending").all()
    for stage in ("search", "search_term"):
        before = KILLS[stage]["told"]
        assert before, stage
        for trial_id, result in before.items():  # kept, unchanged
            assert trials.loc[trial_id, "epochs_trained"] == result["epochs_trained"]
            assert trials.loc[trial_id, "cost_seconds"] == pytest.approx(result["cost"])
    # interrupted trials ran again (continuing their checkpoints), and the budget adds up:
    # at least the 12 epochs, at most one unfinished trial per worker beyond them
    assert any(e["event"] == "reissue" for e in events)
    assert 12 <= trials["epochs_trained"].sum() < 12 + 2 * 3
    for record in KILLS.values():
        assert not record["left_running"], record  # the kill left no job behind


def test_killed_proxy_shard_and_retrain_continue_their_work(study: Path) -> None:
    res = study / "results/test"
    assert KILLS["proxy"]["returncode"] == -signal.SIGKILL
    logs = "".join(p.read_text() for p in (res / "logs").glob("proxy_table_shard*.log"))
    assert re.search(r"resuming: [1-9]\d* proxy configs already trained", logs)
    table = pd.read_parquet(res / "proxy/table.parquet")
    assert sorted(table["config_id"].unique()) == list(range(6))  # proxy.configs, each once
    assert not table.duplicated(["config_id", "epoch"]).any()
    assert not list((res / "proxy").glob("*.partial.jsonl"))
    if any("/tuned/" in p for p in KILLS["retrain"]["checkpoints"]):
        logs = "".join(p.read_text() for p in (res / "logs").glob("retrain_tuned_seed*.log"))
        assert "continuing from" in logs


def test_sigterm_stops_at_once_and_releases_the_lock(study: Path) -> None:
    record = KILLS["search_term"]
    assert record["returncode"] != 0 and record["seconds_to_stop"] < 60
    assert record["locks"] == []  # the next plain `snakemake` starts (and it did)
    # each search worker said so (on stderr; its log file was restarted by the rerun)
    assert (study / "run.log").read_text().count("WARNING hpotext: stopped by SIGTERM") >= 2
    for stage in ("proxy", "search", "retrain"):
        assert KILLS[stage]["locks"], "a SIGKILLed run leaves its lock for the resume to clear"


def test_report_and_dag(study: Path) -> None:
    snakemake(study, "--configfile", "config/test.yaml", "--report", "report.html")
    html = (study / "report.html").read_text(errors="replace")
    assert all(f"{name}.png" in html for name in FIGURES) and "summary.html" in html
    dag = snakemake(study, "--configfile", "config/test.yaml", "--dag", "-F").stdout
    assert "digraph" in dag and "search" in dag and "retrain" in dag and "fetch" in dag
    if shutil.which("dot"):
        svg = subprocess.run(
            ["dot", "-Tsvg"], input=dag, capture_output=True, text=True, check=True
        )
        assert "<svg" in svg.stdout


def test_report_renders_in_headless_chromium(study: Path, tmp_path: Path) -> None:
    """Open the report as a browser would, click through every category and result."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        if os.environ.get("HPOTEXT_REQUIRE_EXTRAS"):
            pytest.fail("chromium is missing; make test installs it (apt) when run as root")
        pytest.skip("needs chromium (make test installs it when run as root)")
    snakemake(study, "--configfile", "config/test.yaml", "--report", "report.html")
    page = (study / "report.html").read_text()
    checker = (ROOT / "tests/report_check.js").read_text()
    probe = tmp_path / "report.html"
    head, end, tail = page.rpartition("</body>")  # the last one: vega's code holds another
    probe.write_text(f"{head}<script>{checker}</script>{end}{tail}")
    proc = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
         probe.as_uri()],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    found = re.search(r'<pre id="hpotext-check">(.*?)</pre>', proc.stdout, re.DOTALL)
    assert found, f"the report did not render:\n{proc.stderr[-3000:]}"
    check = json.loads(html.unescape(found.group(1)))
    assert check["errors"] == []
    assert {"1 Summary", "3 Search", "4 Importance", "5 Tuned config"} <= set(check["categories"])
    for name in FIGURES:
        seen = check["results"][f"{name}.png"]
        assert seen["listed"] and seen["caption"] > 0, name
        assert seen["width"] > 100 and seen["height"] > 100, name  # a decoded, drawn figure
    summary = check["results"]["summary.html"]
    assert summary["iframe"] and "What mattered" in summary["text"] and "TF-IDF" in summary["text"]


def test_proxy_validation_runs_every_optimizer_live(study: Path) -> None:
    """proxy.validate adds live runs and a rank check; the cached proxy stage is not redone."""
    proc = snakemake(
        study,
        "--configfile",
        "config/test.yaml",
        "--config",
        "proxy={validate: true, validate_budget: 4}",
    )
    ran = set(re.findall(r"^(?:local)?rule (\w+):", proc.stdout + proc.stderr, re.MULTILINE))
    assert ran == {"validate_run", "validate_proxy", "summary", "all"}
    res = study / "results/test"
    check = json.loads((res / "selection/validation.json").read_text())
    ranks = check["live_mean_ranks"]
    assert set(ranks) == {"random", "asha", "dehb"}
    assert check["seeds"] == [0, 1] and check["budget_epochs"] == 4
    assert check["spearman"] is None or -1.0 <= check["spearman"] <= 1.0
    assert check["spearman_ci95"] is None or len(check["spearman_ci95"]) == 2
    assert isinstance(check["selected_in_live_top2"], bool) and check["selected"] in ranks
    for opt in ("random", "asha", "dehb"):
        traj = pd.read_parquet(res / f"validate/{opt}_seed1.parquet")
        assert traj["cost"].iloc[-1] >= 4 and (traj["optimizer"] == opt).all()
    summary = json.loads((res / "summary.json").read_text())
    assert summary["proxy_validation"]["live_best"] == check["live_best"]
    assert "validate_run" in summary["stage_seconds"]
    assert "Proxy check" in (res / "summary.md").read_text()


def test_a_named_optimizer_skips_the_proxy_stage(tmp_path: Path) -> None:
    work = copy_workflow(tmp_path / "hpotext")
    auto = snakemake(work, "--configfile", "config/test.yaml", "-n").stdout
    named = snakemake(
        work, "--configfile", "config/test.yaml", "--config", "search={optimizer: dehb}", "-n"
    ).stdout
    for rule in ("proxy_table", "proxy_surrogate", "proxy_run", "select_optimizer"):
        assert rule in auto and rule not in named
    assert "validate_run" not in auto  # proxy.validate is off by default
    assert "search" in named and "retrain" in named


def test_lint_and_format() -> None:
    work = ROOT
    proc = snakemake(work, "--lint", "--configfile", "config/test.yaml", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    bin_dir = Path(sys.executable).parent
    fmt = subprocess.run(
        [str(bin_dir / "snakefmt"), "--check", "."], cwd=work, capture_output=True, text=True
    )
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr
    ruff = subprocess.run(
        [str(bin_dir / "ruff"), "check", "."], cwd=work, capture_output=True, text=True
    )
    assert ruff.returncode == 0, ruff.stdout + ruff.stderr


def write_reviews(path: Path, n: int = 300) -> None:
    good = ["great", "lovely", "superb", "fun", "moving"]
    bad = ["dull", "awful", "boring", "weak", "messy"]
    rows = []
    for i in range(n):
        positive = i % 2 == 0
        words = good if positive else bad
        rows.append(
            {
                "review": f"a {words[i % 5]} film , truly {words[(i // 5) % 5]} .",
                "stars": 5 if positive else 1,
            }
        )
    pd.DataFrame(rows).to_csv(path, index=False)


def test_user_csv_with_own_column_names(tmp_path: Path) -> None:
    work = copy_workflow(tmp_path / "hpotext")
    write_reviews(work / "my_reviews.csv")
    snakemake(
        work,
        "--configfile",
        "config/test.yaml",
        "--config",
        "dataset=my_reviews.csv",
        "experiment=",
        "data={text_column: review, label_column: stars, max_rows: 0}",
        "search={optimizer: asha, budget: {kind: epochs, amount: 9}}",  # no proxy stage
        "final={ensemble_top_k: 1}",
    )
    summary = json.loads((work / "results/my_reviews/summary.json").read_text())
    assert summary["dataset"]["classes"] == ["1", "5"]
    assert summary["dataset"]["rows"] == 300
    assert summary["test"]["accuracy"]["mean"] > 0.9  # trivially separable
    assert not (work / "resources").exists()  # nothing fetched for a user's file


def test_bad_config_fails_before_any_job(tmp_path: Path) -> None:
    work = copy_workflow(tmp_path / "hpotext")
    proc = snakemake(
        work, "--configfile", "config/test.yaml", "--config", "train={lrr: 1}", check=False
    )
    assert proc.returncode != 0
    assert "unknown config key 'train.lrr'" in proc.stdout + proc.stderr
    assert not (work / "results").exists()


def test_bad_dataset_fails_with_one_sentence_and_no_output(tmp_path: Path) -> None:
    work = copy_workflow(tmp_path / "hpotext")
    pd.DataFrame({"text": ["a", "b", "c", "d"], "label": ["x"] * 4}).to_csv(
        work / "one_class.csv", index=False
    )
    proc = snakemake(
        work,
        "--configfile",
        "config/test.yaml",
        "--config",
        "dataset=one_class.csv",
        "experiment=",
        check=False,
    )
    assert proc.returncode != 0
    log = (work / "results/one_class/logs/prepare.log").read_text()
    assert "class" in log and "Traceback" not in log
    assert not list((work / "results/one_class").glob("data/*.parquet"))


def test_playbook_study_compares_two_model_families(study: Path) -> None:
    """Each scientific value is an arm: its own search and retraining, then a comparison."""
    proc = snakemake(
        study, "--configfile", "config/test.yaml", "--config",
        "study={scientific: {model: [boe, cnn]}, fixed: {token_drop: 0.0}}",
    )  # fmt: skip
    ran = re.findall(r"^(?:local)?rule (\w+):", proc.stdout + proc.stderr, re.MULTILINE)
    assert "prepare" not in ran and "proxy_table" not in ran  # shared with the base study
    assert ran.count("search") == 4 and ran.count("arm_space") == 2
    res = study / "results/test/study"
    for family in ("boe", "cnn"):
        arm = res / f"model-{family}"
        summary = json.loads((arm / "summary.json").read_text())
        assert summary["best_config"].get("model", family) == family
        assert "token_drop" not in summary["best_config"]  # fixed, not searched
        trials = pd.read_parquet(arm / "search/trials.parquet")
        assert "config.model" not in trials and (trials["status"] != "pending").all()
        assert all((arm / "report" / f"{name}.png").exists() for name in FIGURES)
        assert set(summary["stage_seconds"]) >= {"search", "retrain", "evaluate"}
        assert "proxy_table" not in summary["stage_seconds"]  # the base study's
    comparison = json.loads((res / "comparison.json").read_text())
    assert set(comparison["arms"]) == {"model-boe", "model-cnn"}
    assert all(row["seeds"] == 2 for row in comparison["arms"].values())
    assert "seed noise" in (res / "comparison.md").read_text()
    assert (res / "comparison.png").read_bytes()[:4] == b"\x89PNG"


def test_playbook_settings_and_bad_studies(study: Path) -> None:
    """Seed 002's ablation is a scientific setting; a bad study fails before any job."""
    proc = snakemake(
        study, "--configfile", "config/test.yaml", "-n", "--config",
        "study={scientific: {search.options.prior_fraction: [0.5, 0.8]}}",
        "search={space: config/spaces/test.yaml, optimizer: asha, budget: {amount: 12}}",
    )  # fmt: skip
    out = proc.stdout + proc.stderr
    assert "results/test/study/prior_fraction-0.8/search/workers/w1.json" in out
    assert "compare_arms" in out and "proxy_table" not in out  # a named optimizer: no proxy
    bad = snakemake(study, "--configfile", "config/test.yaml", "-n", "--config",
                    "study={scientific: {model: [boe]}}", check=False)  # fmt: skip
    assert bad.returncode != 0
    assert "study.scientific.model must list at least two values" in bad.stdout + bad.stderr


def test_a_later_study_searches_with_the_derived_priors(study: Path) -> None:
    """Every study derives priors from its top configs; a later study names them (issue 8)."""
    derived = yaml.safe_load((study / "results/test/priors/derived.yaml").read_text())
    assert derived["source"] == "results/test/search/trials.parquet" and derived["priors"]
    later = ("--configfile", "config/test.yaml", "--config", "experiment=later",
             "search={priors: results/test/priors/derived.yaml}")  # fmt: skip
    plan = snakemake(study, *later, "-n", "--forceall").stdout
    assert "rule prior_space:" in plan
    assert re.search(r"rule search:\n\s+input: [^\n]*results/later/priors/space.yaml", plan)
    snakemake(study, *later, "--", "results/later/priors/space.yaml")
    space = yaml.safe_load((study / "results/later/priors/space.yaml").read_text())
    for key, entry in derived["priors"].items():
        hp = space["families"][key.split("__")[0]][key.split("__")[1]] if "__" in key else \
            space["hyperparameters"][key]  # fmt: skip
        assert hp["prior"] == entry["prior"] and hp["confidence"] == entry["confidence"]


def _reversed(node: object) -> object:
    """The same config with every mapping's keys in reverse order."""
    if isinstance(node, dict):
        return {k: _reversed(node[k]) for k in reversed(list(node))}
    return node


def test_harmless_edits_rerun_nothing_and_a_changed_setting_says_how_to_go_on(
    study: Path,
) -> None:
    """Issue 14: comments in the space and a config with its keys in another order plan no
    job; a changed seed stops before any job with the commands that resolve it; on_change: new
    keeps the old search whole next to the new one. (Runs after every test of the study.)"""
    # the tests before changed real settings (proxy.validate, ...): bring the study up to date
    snakemake(study, "--configfile", "config/test.yaml")
    space = study / "config/spaces/test.yaml"
    original = space.read_text()
    space.write_text("# a note\n" + original + "\n# tried on 2026-12-01\n")
    config = yaml.safe_load((study / "config/test.yaml").read_text())
    (study / "mine.yaml").write_text("# my copy\n" + yaml.safe_dump(_reversed(config),
                                                                    sort_keys=False))  # fmt: skip
    for args in (("--configfile", "config/test.yaml"), ("--configfile", "mine.yaml")):
        plan = snakemake(study, "-n", *args)
        assert "Nothing to be done" in plan.stdout + plan.stderr, plan.stdout[-3000:]
    space.write_text(original)
    search = study / "results/test/search"
    before = {p: p.stat().st_mtime_ns for p in study.joinpath("results/test").rglob("*")}
    old_journal = (search / "journal.jsonl").read_bytes()
    changed = ("--configfile", "config/test.yaml", "--config", "search={seed: 3}")
    refused = snakemake(study, *changed, check=False)
    out = refused.stdout + refused.stderr
    assert refused.returncode != 0 and "Traceback" not in out
    line = next(x for x in out.splitlines() if "hpotext: " in x)
    assert "(search.seed 0 -> 3); to continue it rerun with --config search='{seed: 0}'" in line
    assert "keep this one as results/test/search.1 rerun with --config search='{on_change: new}'" \
        in line  # fmt: skip
    after = {p: p.stat().st_mtime_ns for p in study.joinpath("results/test").rglob("*")}
    assert after == before  # refused at parse: no job ran, every output agrees as before
    snakemake(study, *changed[:-1], "search={seed: 3, on_change: new}", "--",
              "results/test/search/trials.parquet")  # fmt: skip
    kept = study / "results/test/search.1"
    assert (kept / "journal.jsonl").read_bytes() == old_journal
    assert (kept / "trials.parquet").exists() and (kept / "space.yaml").exists()
    assert json.loads((search / "journal.jsonl").read_text().splitlines()[0])["seed"] == 3
    assert len(pd.read_parquet(search / "trials.parquet")) >= 1


SEQUENCE_TEST = {  # on top of config/test.yaml: three tiny related tasks tuned in turn with RUSH
    "experiment": "seq",
    "search": {"optimizer": "rush", "workers": 1},
    "final": {"seeds": [0], "ensemble_top_k": 1},
    "sequence": [
        {"name": "len16", "text": {"max_len": 16}},
        {"name": "len24", "text": {"max_len": 24}},
        {"name": "len32", "text": {"max_len": 32, "min_freq": 1}},
    ],
}


def jobs(plan: str, rule: str) -> list[str]:
    """The dry-run blocks of every job of ``rule`` (inputs, outputs, wildcards)."""
    return [b for b in re.split(r"\n(?=\[|rule |localrule )", plan) if b.startswith(f"rule {rule}:")
            or b.startswith(f"localrule {rule}:")]  # fmt: skip


def test_sequence_study_transfers_incumbents_as_rush_hurdles(tmp_path: Path) -> None:
    """Issue 8: a sequence study runs end to end; task k's search waits for tasks < k."""
    work = copy_workflow(tmp_path / "hpotext")
    (work / "seq.yaml").write_text(yaml.safe_dump(SEQUENCE_TEST))
    args = ("--configfile", "config/test.yaml", "seq.yaml")
    plan = snakemake(work, *args, "-n").stdout
    names = [t["name"] for t in SEQUENCE_TEST["sequence"]]
    searches = jobs(plan, "search")
    assert len(searches) == 3
    for k, name in enumerate(names):
        (block,) = [b for b in searches if f"results/seq/task/{name}/search/workers" in b]
        wanted = {f"results/seq/task/{n}/search/incumbent.json" for n in names[:k]}
        found = set(re.findall(r"results/seq/task/\w+/search/incumbent\.json", block))
        assert found == wanted, f"task {name}'s search depends on {found}, not {wanted}"
    dag = snakemake(work, *args, "--dag").stdout
    label = {m[0]: m[1] for m in re.findall(r"\t(\d+)\[label = \"(\w+)", dag)}
    edges = [(label[a], label[b]) for a, b in re.findall(r"\t(\d+) -> (\d+)", dag)]
    assert edges.count(("collect_search", "search")) == 3  # a->b, a->c, b->c

    snakemake(work, *args)
    table = pd.read_parquet(work / "results/seq/sequence.parquet")
    assert list(table["task"]) == names and (table["optimizer"] == "rush").all()
    assert "| len24 | rush |" in (work / "results/seq/sequence.md").read_text()
    for k, name in enumerate(names):
        study = work / "results/seq/task" / name
        summary = json.loads((study / "summary.json").read_text())
        assert 0.0 <= summary["test"]["accuracy"]["mean"] <= 1.0
        assert (study / "data/vocab.json").exists() and (study / "priors/derived.yaml").exists()
        trials = pd.read_parquet(study / "search/trials.parquet")
        info = trials["info"].map(json.loads)
        hurdles = trials[info.map(lambda i: "hurdle" in i)]
        earlier = [json.loads((work / f"results/seq/task/{n}/search/incumbent.json").read_text())
                   for n in names[:k]]  # fmt: skip
        distinct = {json.dumps(e["config"], sort_keys=True) for e in earlier}
        assert len(hurdles[hurdles["parent"].isna()]) == len(distinct)  # each evaluated first
        assert list(hurdles["trial_id"]) == list(range(len(hurdles)))
        if not k:
            continue
        first = hurdles.iloc[0]
        config = {c[7:]: first[c] for c in trials.columns if c.startswith("config.")
                  and pd.notna(first[c])}  # fmt: skip
        assert config == pytest.approx(earlier[0]["config"])
        # a new config was promoted only if it was at least as good as the best hurdle there
        rung_of = dict(zip(trials["trial_id"], info.map(lambda i: i["rung"]), strict=True))
        told = hurdles.dropna(subset=["objective"])
        best = told.groupby(told["trial_id"].map(rung_of))["objective"].min()
        objective = dict(zip(trials["trial_id"], trials["objective"], strict=True))
        bracket = dict(zip(trials["trial_id"], info.map(lambda i: i["bracket"]), strict=True))
        for trial, parent in zip(trials["trial_id"], trials["parent"], strict=True):
            if pd.notna(parent) and bracket[trial] >= 0 and bracket[int(parent)] == bracket[trial]:
                assert objective[int(parent)] <= best.get(rung_of[int(parent)], float("inf"))
    assert "RUSH hurdles from" in (work / "results/seq/task/len32/logs/search_w0.log").read_text()
    # the shipped example parses and orders its tasks the same way
    example = snakemake(work, "--configfile", "config/sequence.yaml", "-n").stdout
    last = [b for b in jobs(example, "search") if "task/len128_freq5/search/workers" in b]
    assert len(last) == 2  # both workers wait for both earlier tasks
    for n in ("len32", "len64"):
        assert all(f"vader_sequence/task/{n}/search/incumbent.json" in b for b in last)
