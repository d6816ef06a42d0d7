"""Seed statistics, compute per stage and the summary files."""

from __future__ import annotations

import json

import pytest

from hpotext.report.stats import jobs_of, seed_stats, stage_seconds


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
        ("retrain_runner2_seed0", 5.0),
        ("search_w0", 3.0),
        ("search_w1", 4.0),
        ("proxy_table_shard0", 1.5),
        ("proxy_table_shard1", 2.5),
        ("proxy_run_asha", 1.0),
        ("validate_run_dehb_seed1", 3.0),
    ]:
        (tmp_path / f"{name}.tsv").write_text(header + f"{secs}\t0:00:01\t1\n")
    totals = stage_seconds(jobs_of(sorted(str(p) for p in tmp_path.glob("*.tsv"))))
    assert totals == {"prepare": 2.0, "proxy_run": 1.0, "proxy_table": 4.0, "retrain": 27.5,
                      "search": 7.0, "validate_run": 3.0, "total": 44.5}  # fmt: skip


def test_compare_says_beyond_noise_only_for_a_clear_gain() -> None:
    from hpotext.report.stats import compare

    clear = compare([0.80, 0.81, 0.805], [0.70, 0.71, 0.705])
    assert clear["significant"] and clear["mean_difference"] == pytest.approx(0.1)
    assert clear["ci95"][0] > 0 and clear["welch_p_one_sided"] < 0.01
    noisy = compare([0.75, 0.70, 0.80], [0.74, 0.76, 0.72])
    assert not noisy["significant"]
    worse = compare([0.60, 0.61, 0.62], [0.70, 0.71, 0.72])
    assert not worse["significant"] and worse["mean_difference"] < 0
    single = compare([0.8], [0.7])
    assert single["ci95"] is None and not single["significant"]
    flat = compare([0.8, 0.8], [0.8, 0.8])
    assert flat["welch_p_one_sided"] == 1.0 and not flat["significant"]


def test_best_epoch_warnings_follow_the_playbook(tmp_path) -> None:
    import pandas as pd

    from hpotext.report.stats import best_epoch_warnings

    paths = []
    for seed, best in [(0, 9), (1, 1), (2, 5)]:
        curve = pd.DataFrame({"epoch": range(1, 10), "seed": seed})
        curve["best"] = curve["epoch"] == best
        path = tmp_path / f"curve{seed}.parquet"
        curve.to_parquet(path)
        paths.append(str(path))
    warnings = best_epoch_warnings(paths, "tuned")
    assert len(warnings) == 2
    assert "seed 0: best epoch 9 of 9 is in the last 20 %" in warnings[0]
    assert "seed 1: best epoch 1 of 9 is in the first 20 %" in warnings[1]


def test_data_warnings_come_from_dataset_json(tmp_path) -> None:
    import pandas as pd

    from hpotext.data.info import CleanReport, DatasetInfo
    from hpotext.data.split import prepare_dataset
    from hpotext.report.stats import data_warnings

    old = DatasetInfo("x", 3, ["a", "b"], {"train": 1}, {"a": 2, "b": 1}, CleanReport(3, 0, 0, 3))
    assert data_warnings(old) == []
    frame = pd.DataFrame({"text": [f"film {i}" for i in range(100)], "label": ["a", "b"] * 50})
    prepare_dataset(frame, "small", tmp_path)
    warnings = data_warnings(DatasetInfo.from_json(tmp_path / "dataset.json"))
    assert len(warnings) == 2
    assert warnings[0].startswith("data: the val split has only 10 rows")
    assert "10.0%" in warnings[0] and warnings[1].startswith("data: the test split")


def test_verdict_states_plainly_whether_the_goal_was_reached() -> None:
    from hpotext.report.render import verdict
    from hpotext.report.stats import compare

    def summary(tuned: list[float], default: list[float], ref: float) -> dict:
        stats = lambda v: {"accuracy": {"mean": sum(v) / len(v)}}  # noqa: E731
        return {
            "test": stats(tuned),
            "default_config_test": stats(default),
            "tfidf_baseline_test": {"accuracy": ref},
            "tuned_vs_default": {"accuracy": compare(tuned, default)},
        }

    win = verdict(summary([0.82, 0.83], [0.75, 0.76], 0.79))
    assert win[0].startswith("**Goal reached:**") and "beyond seed noise" in win[1]
    lose = verdict(summary([0.78, 0.77], [0.75, 0.76], 0.79))
    assert lose[0].startswith("**Goal not reached:**") and "the TF-IDF reference" in lose[0]
    assert "the default config" not in lose[0]


def test_proxy_wall_share_spans_the_proxy_jobs(tmp_path) -> None:
    import os

    from hpotext.report.stats import proxy_wall_share

    header = "s\th:m:s\tmax_rss\n"
    jobs = [  # name, start, end (seconds since epoch)
        ("fetch", 0.0, 500.0),  # cached across studies: not part of the study's span
        ("prepare", 1000.0, 1010.0),
        ("proxy_table", 1010.0, 1030.0),
        ("proxy_run_asha", 1030.0, 1040.0),
        ("retrain_default_seed0", 1010.0, 1060.0),  # beside the proxy
        ("select_optimizer", 1040.0, 1050.0),
        ("search_w0", 1050.0, 1110.0),
    ]
    files = []
    for name, start, end in jobs:
        path = tmp_path / f"{name}.tsv"
        path.write_text(header + f"{end - start}\t0:00:01\t1\n")
        os.utime(path, (end, end))
        files.append(str(path))
    assert proxy_wall_share(jobs_of(files)) == pytest.approx(40.0 / 110.0, abs=1e-4)
    others = [f for f in files if "proxy" not in f and "select" not in f]
    assert proxy_wall_share(jobs_of(others)) == 0.0


def test_proxy_check_line_names_the_live_rankings_own_agreement() -> None:
    from hpotext.report.render import proxy_check_line

    check = {"spearman": 0.5, "spearman_ci95": [0.0, 0.85], "seeds": list(range(10)),
             "live_best": "asha", "selected": "optuna_tpe", "selected_live_rank": 3.1,
             "selected_live_place": 2, "live_split_half": None}  # fmt: skip
    line = proxy_check_line(check)
    assert line.startswith("Proxy check (live runs, 10 seeds per optimizer): Spearman 0.50 ")
    assert "(place 2); Spearman 95 % CI [0.00, 0.85] over the live seeds." in line
    assert "Half of the live seeds" not in line
    check["live_split_half"] = {"spearman": 0.36, "ceiling": 0.72, "seeds_per_half": 5.0}
    assert line + " Half of the live seeds agree with the other half at Spearman 0.36: about " \
        "0.72 is the most a proxy can reach against these live ranks." == proxy_check_line(check)
