"""A study's state from its files: which stage, the search's progress, its failures."""
