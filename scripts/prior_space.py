"""The study's search space with the priors of the file search.priors names."""

from hpotext.priors import write_prior_space
from hpotext.scripting import run_step

snakemake = globals()["snakemake"]
run_step(
    snakemake,
    write_prior_space,
    space_path=snakemake.input.space,
    priors_path=snakemake.input.priors,
    out=snakemake.output.space,
)
