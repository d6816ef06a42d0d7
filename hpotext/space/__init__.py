"""Search spaces: typed hyperparameters with bounds, log scale, conditions and priors.

The public surface is re-exported here (``from hpotext import space``; ``space.load(path)``);
core holds the records, parse reads YAML, encode maps values to the unit cube, priors samples
and derives priors, steps are the priors stage's workflow steps.
"""

from hpotext.space.core import MODEL, SEP, Fidelity, Hyperparameter, Space, meaning, to_dict
from hpotext.space.parse import from_dict, load, read_yaml

__all__ = [
    "MODEL",
    "SEP",
    "Fidelity",
    "Hyperparameter",
    "Space",
    "from_dict",
    "load",
    "meaning",
    "read_yaml",
    "to_dict",
]
