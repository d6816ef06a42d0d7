"""The study's search space with the priors of the file search.priors names."""

from hpotext.space.steps import prior_space
from hpotext.workflow.scripting import run_step

snakemake = globals()["snakemake"]
run_step(
    snakemake,
    prior_space,
    space_path=snakemake.input.space,
    priors_path=snakemake.input.priors,
    out=snakemake.output.space,
)
