"""Many runs: Optuna hyper-parameter sweeps (sweep.py), k-fold cross-validation (cv.py)
and the table of runs (runs.py). It sits on top of the other packages, as the scripts
do: it builds configs and reads run directories; nothing below imports it."""
