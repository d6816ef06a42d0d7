"""Run one rule's script by hand, outside Snakemake, e.g. under a debugger.

``python -m hpotext.workflow.mock RULE [OUTPUT] [--configfile F ...] [--config KEY=VALUE ...]``
reads the workflow as Snakemake would (the same config, validation and input functions), finds
the job of RULE (the one that writes OUTPUT, or the first of the default target's DAG), and runs
the rule's script with that job's ``snakemake`` object, as PyPSA-Eur's ``mock_snakemake`` does.
The job's inputs must exist (run ``snakemake --until RULE`` first); its log goes to the rule's
log file as in a real run. ``python -m pdb -m hpotext.workflow.mock ...`` steps through it.
"""

from __future__ import annotations

import argparse
import os
import runpy
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from hpotext.errors import HpotextError

ROOT = Path(__file__).resolve().parents[2]


class MockError(HpotextError):
    """A rule or output that the workflow has no job for."""


def mock_snakemake(
    rule: str,
    output: str | None = None,
    configfiles: Sequence[str] = (),
    config: dict[str, Any] | None = None,
    workdir: str | Path = ".",
) -> tuple[Any, Path]:
    """(the ``snakemake`` object of RULE's job, its script's path), read from the workflow in
    ``workdir`` (the Snakefile is this checkout's)."""
    # Snakemake's own API; its job objects are not public, so this is tested (tests/test_mock.py)
    from snakemake.api import (
        ConfigSettings,
        DAGSettings,
        OutputSettings,
        ResourceSettings,
        SnakemakeApi,
        StorageSettings,
    )
    from snakemake.script import Snakemake

    here = Path.cwd()
    os.chdir(workdir)
    try:
        with SnakemakeApi(OutputSettings()) as api:
            workflow_api = api.workflow(
                resource_settings=ResourceSettings(cores=1),
                config_settings=ConfigSettings(
                    configfiles=[Path(f) for f in configfiles], config=dict(config or {})
                ),
                storage_settings=StorageSettings(),
                snakefile=ROOT / "Snakefile",
            )
            workflow_api.dag(DAGSettings(targets={output} if output else set()))
            workflow = workflow_api._workflow
            if rule not in {r.name for r in workflow.rules}:
                names = ", ".join(sorted(r.name for r in workflow.rules if r.script))
                raise MockError(f"the workflow has no rule {rule!r}; scripted rules: {names}")
            workflow._prepare_dag(
                forceall=False, ignore_incomplete=True, lock_warn_only=True, nolock=True
            )
            workflow._build_dag()
            jobs = [j for j in workflow.dag.jobs if j.rule.name == rule]
            if output:
                jobs = [j for j in jobs if output in map(str, j.output)]
            if not jobs:
                where = f"that writes {output}" if output else "in the default target's DAG"
                raise MockError(
                    f"rule {rule!r} has no job {where}; give one of its output files "
                    "(as `snakemake --dry-run` lists them)"
                )
            job = sorted(jobs, key=lambda j: [str(f) for f in j.output])[0]
            if job.rule.script is None:
                raise MockError(f"rule {rule!r} runs no script (a run: block or shell command)")
            script = Path(job.rule.basedir.get_path_or_uri(secret_free=True)) / job.rule.script
            for path in [*job.log, *job.output]:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            snakemake = Snakemake(
                job.input,
                job.output,
                job.params,
                job.wildcards,
                job.threads,
                job.resources,
                job.log,
                workflow.config,
                job.rule.name,
                None,
                scriptdir=str(script.parent),
            )
            return snakemake, script.resolve()
    finally:
        os.chdir(here)


def _config_item(item: str) -> dict[str, Any]:
    key, sep, value = item.partition("=")
    if not sep or not key:
        raise MockError(f"--config takes KEY=VALUE items (as snakemake's), got {item!r}")
    return {key: yaml.safe_load(value)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hpotext.workflow.mock", description=__doc__)
    parser.add_argument("rule")
    parser.add_argument("output", nargs="?")
    parser.add_argument("--configfile", "--configfiles", nargs="+", default=[])
    parser.add_argument("--config", nargs="+", default=[])
    args = parser.parse_args(argv)
    from snakemake.exceptions import RuleException, WorkflowError

    try:
        config: dict[str, Any] = {}
        for item in args.config:
            config.update(_config_item(item))
        snakemake, script = mock_snakemake(args.rule, args.output, args.configfile, config)
    except (HpotextError, WorkflowError, RuleException) as err:
        message = (str(err).strip() or type(err).__name__).splitlines()[0]
        if isinstance(err, RuleException) and args.output:
            message = f"no rule writes {args.output}; give an output file of rule {args.rule}"
        print(message if message.startswith("hpotext:") else f"hpotext: {message}", file=sys.stderr)
        return 2
    sys.path.insert(0, str(ROOT))
    runpy.run_path(str(script), init_globals={"snakemake": snakemake}, run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
