"""The study vocabulary's word vectors from the pretrained encoder's input embeddings."""

from hpotext.data.steps import vectors
from hpotext.workflow.scripting import run_step

snakemake = globals()["snakemake"]
run_step(
    snakemake,
    vectors,
    vocab_path=snakemake.input.vocab,
    encoder=snakemake.input.encoder,
    out_path=snakemake.output.vectors,
)
