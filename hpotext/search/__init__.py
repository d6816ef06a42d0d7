"""The multi-fidelity search: workers that share a crash-safe trial store, the objective that
trains a trial, and the check of a search's settings."""
