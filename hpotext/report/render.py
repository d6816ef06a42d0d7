"""summary.md and summary.html from the summary record: the verdict, tables and warnings."""

from __future__ import annotations

import json
from typing import Any

# who chose the search's optimizer (hpotext.selection.rule.optimizer_choice's rule)
DECIDED = {
    "config": "named in the config",
    "proxy": "decided by the proxy",
    "fallback": "decided by the fallback order, as the proxy could not",
}


def to_html(markdown_text: str, title: str) -> str:
    """summary.md as a self-contained HTML page (for the Snakemake report)."""
    import markdown

    body = markdown.markdown(markdown_text, extensions=["tables", "fenced_code"])
    style = (
        "body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.4}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em}"
        "pre{background:#f4f4f4;padding:.6em}"
    )
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{style}</style></head><body>{body}</body></html>"
    )


def _pm(stats: dict[str, Any], metric: str) -> str:
    return f"{stats[metric]['mean']:.4f} ± {stats[metric]['std']:.4f}"


def verdict(summary: dict[str, Any]) -> list[str]:
    """Plain sentences: did the tuned config beat the default and the TF-IDF reference?"""
    tuned, default = summary["test"]["accuracy"]["mean"], summary["default_config_test"]
    ref = summary["tfidf_baseline_test"]["accuracy"]
    cmp = summary["tuned_vs_default"]["accuracy"]
    lines = []
    if tuned > default["accuracy"]["mean"] and tuned > ref:
        lines.append(
            "**Goal reached:** the tuned config beats both the default config and the "
            "TF-IDF reference on mean test accuracy."
        )
    else:
        missed = [
            n
            for n, v in (
                ("the default config", default["accuracy"]["mean"]),
                ("the TF-IDF reference", ref),
            )
            if tuned <= v
        ]
        lines.append(
            f"**Goal not reached:** the tuned config does not beat {' or '.join(missed)} "
            "on mean test accuracy."
        )
    if cmp["ci95"] is not None:
        lines.append(
            f"Tuned minus default: {cmp['mean_difference']:+.4f} accuracy (bootstrap 95 % CI "
            f"[{cmp['ci95'][0]:+.4f}, {cmp['ci95'][1]:+.4f}], one-sided Welch p = "
            f"{cmp['welch_p_one_sided']:.3f}): "
            + ("better beyond seed noise." if cmp["significant"] else "not beyond seed noise.")
        )
    return lines


def to_markdown(summary: dict[str, Any]) -> str:
    ds, test, default = summary["dataset"], summary["test"], summary["default_config_test"]
    ref, search = summary["tfidf_baseline_test"], summary["search"]
    n = len(test["seeds"])
    lines = [
        f"# hpotext study `{summary['experiment']}`",
        "",
        f"Dataset **{ds['name']}**: {ds['rows']} rows, {len(ds['classes'])} classes "
        f"({', '.join(ds['classes'][:10])}{', …' if len(ds['classes']) > 10 else ''}); "
        f"splits {ds['splits']}; search subset {ds['search_subset_rows']} rows; "
        f"{ds['dropped_rows']} rows dropped while cleaning.",
        "",
        "## Test scores",
        "",
        f"Mean ± std over {n} seeds (each retrained on the full train split, best epoch on val).",
        "",
        "| model | accuracy | macro-F1 |",
        "| --- | --- | --- |",
        f"| tuned config | {_pm(test, 'accuracy')} | {_pm(test, 'macro_f1')} |",
        f"| default (prior) config | {_pm(default, 'accuracy')} | {_pm(default, 'macro_f1')} |",
        f"| TF-IDF + logistic regression | {ref['accuracy']:.4f} | {ref['macro_f1']:.4f} |",
        "",
        *verdict(summary),
        "",
        *ensemble_lines(summary),
        "## Search",
        "",
        f"Optimizer **{summary['selected_optimizer']['name']}** "
        f"({DECIDED[summary['selected_optimizer'].get('rule', 'proxy')]}): "
        f"{summary['selected_optimizer']['reason'].rstrip('.')}.",
        "",
        f"{search['trials']} trials "
        f"({search['completed']} completed, {search['stopped_early']} stopped early, "
        f"{search['failed']} failed), {search['epochs_trained']} epochs, "
        f"{search['cost_seconds']:.0f} s of training; best validation accuracy "
        f"{search['best_val']:.4f} (trial {search['best_trial']}, "
        f"{search['best_fidelity']} epochs).",
        "",
        "Best config:",
        "",
        "```json",
        json.dumps(summary["best_config"], indent=2),
        "```",
        "",
        "Default (prior) config:",
        "",
        "```json",
        json.dumps(summary["default_config"], indent=2),
        "```",
        "",
    ]
    lines += importance_lines(summary.get("importance"))
    if summary["warnings"]:
        lines += ["## Warnings", "", *[f"- {w}" for w in summary["warnings"]], ""]
    lines += [
        "## Compute per stage (wall seconds)",
        "",
        "| stage | seconds |",
        "| --- | --- |",
        *[f"| {k} | {v:.1f} |" for k, v in summary["stage_seconds"].items()],
        "",
        f"Choosing the optimizer on the proxy took {100 * summary['proxy_share']:.1f} % of the "
        f"study's compute and {100 * summary['proxy_wall_share']:.1f} % of its wall-clock time.",
        "",
    ]
    check = summary.get("proxy_validation")
    if check:
        at = lines.index("Best config:")
        lines[at:at] = [proxy_check_line(check), ""]
    return "\n".join(lines)


def proxy_check_line(check: dict[str, Any]) -> str:
    """One sentence on proxy.validate: how the proxy's ranking agreed with the live one, and how
    well the live ranking agrees with itself (the most a proxy can be expected to reach)."""
    rho = "undefined" if check["spearman"] is None else f"{check['spearman']:.2f}"
    place = check.get("selected_live_place")
    ci, half = check.get("spearman_ci95"), check.get("live_split_half")
    return (
        f"Proxy check (live runs, {len(check['seeds'])} seeds per optimizer): Spearman "
        f"{rho} between the proxy's and the live ranking; live best {check['live_best']}, "
        f"the selected {check['selected']} ranked {check['selected_live_rank']:.2f}"
        + (f" (place {place})" if place else "")
        + (f"; Spearman 95 % CI [{ci[0]:.2f}, {ci[1]:.2f}] over the live seeds." if ci else ".")
        + (
            f" Half of the live seeds agree with the other half at Spearman "
            f"{half['spearman']:.2f}: about {half['ceiling']:.2f} is the most a proxy can "
            "reach against these live ranks."
            if half
            else ""
        )
    )


def ensemble_lines(summary: dict[str, Any]) -> list[str]:
    """The seed ensembles (the retrained seeds' probabilities averaged) beside the single seeds,
    and which bundle the study hands over."""
    found = summary.get("seed_ensemble")
    if not found:
        return []
    from hpotext.predict.steps import variant_name

    def ci(gain: dict[str, Any]) -> str:
        low, high = gain["ci95"]
        return f"{gain['mean_difference']:+.4f} [{low:+.4f}, {high:+.4f}]"

    lines = [
        "### Seed ensembles",
        "",
        "Each retrained config's seeds' class probabilities averaged (runners-up of the search: "
        "one seed); the gain over the single-seed mean with a paired bootstrap 95 % CI over the "
        "test rows.",
        "",
        "| model | ensemble accuracy | single seeds | gain [95 % CI] | ensemble macro-F1 |",
        "| --- | --- | --- | --- | --- |",
    ]
    for variant, e in found.items():
        single = e["single"]["accuracy"]
        lines.append(
            f"| {variant_name(variant).removeprefix('the ')} ({e['members']} "
            f"seed{'' if e['members'] == 1 else 's'}) | "
            f"{e['ensemble']['accuracy']:.4f} | {single['mean']:.4f} ± {single['std']:.4f} | "
            f"{ci(e['gain']['accuracy'])} | {e['ensemble']['macro_f1']:.4f} |"
        )
    lines.append("")
    top = summary.get("top_k_ensemble")
    if top:
        weights = ", ".join(f"{variant_name(v)} {w:.2f}" for v, w in top["weights"].items())
        test = top["test"]
        lines += [
            f"Top-k ensemble (greedy selection with replacement on validation, {top['rounds']} "
            f"rounds; weights: {weights}): test accuracy {test['ensemble']['accuracy']:.4f}, "
            f"macro-F1 {test['ensemble']['macro_f1']:.4f}; over "
            f"{variant_name(test['reference'])}'s seed ensemble {ci(test['gain']['accuracy'])}; "
            "validation accuracy "
            f"{top['val']['ensemble']['accuracy']:.4f} cross-fitted (weights chosen on the other "
            f"half), {top['val']['as_selected']['accuracy']:.4f} as selected.",
            "",
        ]
    chosen = summary.get("bundle")
    if chosen:
        lines += [
            f"**Model bundle** (`results/{summary['experiment']}/bundle`, for "
            f"`python -m hpotext.predict`): {variant_name(chosen['variant'])}, "
            f"as {chosen['reason']}.",
            "",
        ]
        speed = chosen.get("speed")
        if speed:
            lines += [
                f"Inference on the CPU ({speed['threads']} thread(s), {speed['members']} "
                f"members): {speed['batch_texts_per_second']:.0f} texts/s in batches of "
                f"{speed['batch_size']}, {speed['single_text_ms']:.1f} ms for a single text.",
                "",
            ]
    return lines


def importance_lines(found: dict[str, Any] | None) -> list[str]:
    """The "What mattered" section: fANOVA main effects and the strongest interactions."""
    if not found:
        return []
    lines = ["## What mattered", ""]
    if not found.get("top"):
        return [*lines, "Too few trials for an importance analysis.", ""]
    lines += [
        f"fANOVA ({found['backend']}) over {found['n_configs']} configs at "
        f"{found['fidelity']} epochs: the share of the variance in validation error that each "
        "hyperparameter explains on its own.",
        "",
        "| hyperparameter | fraction of variance | spread over trees |",
        "| --- | --- | --- |",
        *[f"| {r['param']} | {r['importance']:.3f} | ± {r['std']:.3f} |" for r in found["top"]],
        "",
    ]
    pairs = [p for p in found.get("interactions") or [] if p["importance"] > 0][:3]
    if pairs:
        lines += [
            "Strongest interactions: "
            + "; ".join(f"{' x '.join(p['params'])} {p['importance']:.3f}" for p in pairs)
            + ".",
            "",
        ]
    return lines
