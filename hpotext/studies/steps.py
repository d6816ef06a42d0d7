"""The studies' steps: a playbook arm's space, the arms' comparison, and a sequence's summary."""

from __future__ import annotations

from typing import Any

import pandas as pd
import yaml

from hpotext import space as space_mod
from hpotext.io import read_json, write_json, write_parquet, write_text
from hpotext.studies.playbook import arm_search_space, arms, compare_scores, comparison_markdown
from hpotext.studies.sequence import summarize, summary_markdown


def arm_space(space_path: str, study: dict[str, Any], arm_name: str, out: str) -> None:
    """An arm's search space file: study.fixed and its scientific hyperparameters held fixed."""
    base = space_mod.load(space_path)
    arm = next(a for a in arms(study, base) if a.name == arm_name)
    text = yaml.safe_dump(space_mod.to_dict(arm_search_space(base, study, arm)), sort_keys=False)
    write_text(out, text)


def compare_arms(
    arm_names: list[str],
    metric_files: dict[str, list[str]],
    study: dict[str, Any],
    space_path: str,
    json_out: str,
    md_out: str,
    png_out: str,
    metric: str = "accuracy",
) -> dict[str, Any]:
    """comparison.{json,md,png} from every arm's tuned test metrics."""
    from hpotext.report.plots.studies import arm_comparison

    space = space_mod.load(space_path)
    by_name = {a.name: a for a in arms(study, space)}
    scores = {name: [float(read_json(p)[metric]) for p in metric_files[name]] for name in arm_names}
    result = compare_scores(scores)
    result["scientific"] = {n: by_name[n].values for n in arm_names}
    result["metric"] = metric
    write_json(result, json_out)
    write_text(md_out, comparison_markdown(result, [by_name[n] for n in arm_names], metric))
    frame = pd.DataFrame(
        [{"arm": a, "seed": i, "value": v} for a, vs in scores.items() for i, v in enumerate(vs)]
    )
    arm_comparison(frame, result, png_out, ylabel=f"test {metric}")
    return result


def sequence_summary(
    names: list[str],
    incumbents: list[str],
    trials: list[str],
    summaries: list[str],
    optimizer: str,
    md_out: str,
    parquet_out: str,
) -> pd.DataFrame:
    """sequence.md and sequence.parquet: one row per task."""
    frame = summarize(names, incumbents, trials, summaries, optimizer)
    write_parquet(frame, parquet_out)
    write_text(md_out, summary_markdown(frame))
    return frame
