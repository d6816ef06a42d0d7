"""The search space's prior config: the default the tuned config is compared with."""

from hpotext.search.steps import default_config
from hpotext.workflow.scripting import run_step

snakemake = globals()["snakemake"]
run_step(snakemake, default_config, space_path=snakemake.input.space, out=snakemake.output.config)
