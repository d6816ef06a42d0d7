"""optuna-dashboard on a study's trials, kept up to date from the trial store (read-only)."""
