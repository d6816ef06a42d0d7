"""Label the texts of the predict file with the study's bundle."""

from hpotext.predict.steps import predict_file
from hpotext.workflow.scripting import run_step

snakemake = globals()["snakemake"]
data = snakemake.params.data
run_step(
    snakemake,
    predict_file,
    bundle_dir=snakemake.input.bundle,
    input_path=snakemake.input.texts,
    output_path=snakemake.output[0],
    text_column=data["text_column"],
    format=data["format"],
    delimiter=data["delimiter"],
    encoding=data["encoding"],
    options=("data.text_column", "data.format"),
)
