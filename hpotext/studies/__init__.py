"""Studies made of studies: playbook arms (scientific vs nuisance hyperparameters) and
sequences of related tasks."""
