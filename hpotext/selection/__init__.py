"""Optimizer selection: anytime regret, ranks and tests over the proxy replays (stats), the
selection rule (rule) and the live check of the proxy's ordering (validate)."""
