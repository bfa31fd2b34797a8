"""The files of a model directory (train.py's output, which evaluate.py adds its metrics to), by name.

A module of its own so that the scripts that only read a model directory (evaluate.py, drift.py, server.py) need not
import train.py, and with it scikit-learn's estimators, for a file name: drift.py needs no scikit-learn at all, and
the model server starts without the estimators its model does not use.
"""

#: The fitted scikit-learn estimator (joblib).
MODEL_FILE = "model.joblib"
#: Model type, hyper-parameters, seed, features, classes, data source and its sha256.
PARAMS_FILE = "params.json"
#: The training split (features + target): the reference sample of the drift tests.
REFERENCE_FILE = "reference.csv"
#: Per-feature statistics of the reference sample.
REFERENCE_STATS_FILE = "reference_stats.json"
#: The held-out split evaluate.py scores by default.
HOLDOUT_FILE = "holdout.csv"
#: evaluate.py's metrics and gate result.
METRICS_FILE = "metrics.json"
