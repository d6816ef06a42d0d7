"""The report stage: hyperparameter importance, the boundary check, the figures and the
study's summary."""
