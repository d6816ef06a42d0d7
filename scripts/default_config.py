"""The search space's prior config: the default the tuned config is compared with."""

from hpotext.scripting import run_step
from hpotext.study import default_config

snakemake = globals()["snakemake"]
run_step(snakemake, default_config, space_path=snakemake.input.space, out=snakemake.output.config)
