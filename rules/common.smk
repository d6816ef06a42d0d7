# Wildcard constraints and input functions over the run's plan (hpotext/workflow/plan.py).
import os

from snakemake.exceptions import WorkflowError

from hpotext.errors import HpotextError
from hpotext.io import concat_parquets
from hpotext.studies.playbook import base_exp
from hpotext.workflow.config import config_sources
from hpotext.workflow.plan import plan

# NePS orders categorical choices through a set: every process must hash strings alike.
os.environ.update(PYTHONHASHSEED="0")

try:  # a bad config or space, or changed search settings, stop here, before any job
    PLAN = plan(
        config,
        # errors name the source that set the key: config/config.yaml, a --configfile or --config
        sources=config_sources(
            workflow.configfiles,
            workflow.config_settings.configfiles,
            workflow.config_settings.config,
        ),
    )
except HpotextError as err:
    raise WorkflowError(f"hpotext: {err}") from None
config.clear()
config.update(PLAN.config)
EXP = PLAN.exp
BASE_SPACE = PLAN.base_space
SPACE_MEANING = PLAN.space_meaning(EXP)
# Training jobs share the GPU one at a time (--resources gpu=1). Without a GPU there is nothing
# to share, so they ask for none and run side by side on the cores.
GPU = PLAN.gpu


wildcard_constraints:
    **PLAN.wildcard_constraints(),


def of_study(method, *args):
    """An input/params function: ``PLAN.<method>(wildcards.exp, *args)``."""
    return lambda wildcards: getattr(PLAN, method)(wildcards.exp, *args)


def each_seed(path):
    """An input function: ``results/<exp>/<path>`` for every retraining seed of the job's
    variant."""
    return lambda wildcards: PLAN.per_seed(wildcards.exp, path, (wildcards.variant,))


def setting(*path):
    """An input/params function: the value at ``path`` in the study's config."""
    return lambda wildcards: PLAN.setting(wildcards.exp, *path)


def space_file(wildcards):
    """The study's space file as an input whose edits count only through its meaning."""
    return ancient(PLAN.space_path(wildcards.exp))


def base_file(path):
    """An input function: ``path`` of the base study (its data, reference: shared by arms)."""
    return lambda wildcards: f"results/{base_exp(wildcards.exp)}/{path}"


def proxy_part(wildcards):
    """The optimizers replayed by proxy_run job ``part``."""
    return PLAN.proxy_parts[int(wildcards.part)]


def retrain_config(wildcards):
    """The config a retrain job trains: the search's incumbent, the space's prior config or a
    runner-up of the search."""
    if wildcards.variant == "tuned":
        return f"results/{wildcards.exp}/search/incumbent.json"
    return f"results/{wildcards.exp}/final/{wildcards.variant}/config.json"


def variant_seeds(wildcards):
    """The seeds the job's variant is retrained with."""
    return PLAN.variant_seeds(wildcards.exp, wildcards.variant)


def arm_space_meaning(wildcards):
    return PLAN.meanings[wildcards.arm]
