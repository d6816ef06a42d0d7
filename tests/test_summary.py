"""Seed statistics, compute per stage and the summary files."""

from __future__ import annotations

import json

import pytest

from hpotext.summary import seed_stats, stage_seconds


def test_seed_stats_mean_std_per_seed(tmp_path) -> None:
    files = []
    for seed, acc in [(0, 0.70), (1, 0.80), (2, 0.90)]:
        path = tmp_path / f"m{seed}.json"
        path.write_text(json.dumps({"accuracy": acc, "macro_f1": acc - 0.1, "epoch": seed + 1}))
        files.append(str(path))
    stats = seed_stats(files, [0, 1, 2])
    assert stats["accuracy"]["mean"] == pytest.approx(0.80)
    assert stats["accuracy"]["std"] == pytest.approx(0.10)
    assert stats["macro_f1"]["per_seed"] == pytest.approx({"0": 0.6, "1": 0.7, "2": 0.8})
    assert stats["best_epoch"] == {"0": 1, "1": 2, "2": 3}
    single = seed_stats(files[:1], [0])
    assert single["accuracy"]["std"] == 0.0


def test_stage_seconds_sums_jobs_of_a_rule(tmp_path) -> None:
    header = "s\th:m:s\tmax_rss\n"
    for name, secs in [
        ("prepare", 2.0),
        ("retrain_tuned_seed0", 10.0),
        ("retrain_default_seed1", 12.5),
        ("search_w0", 3.0),
        ("search_w1", 4.0),
    ]:
        (tmp_path / f"{name}.tsv").write_text(header + f"{secs}\t0:00:01\t1\n")
    totals = stage_seconds(sorted(str(p) for p in tmp_path.glob("*.tsv")))
    assert totals == {"prepare": 2.0, "retrain": 22.5, "search": 7.0, "total": 31.5}
