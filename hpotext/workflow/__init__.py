"""The Snakemake side: config validation, the parse-time plan, the script boundary and resume."""
