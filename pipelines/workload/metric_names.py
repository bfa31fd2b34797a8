"""The metric contract of the reference model server, in one place.

Names, help texts, labels and buckets of every metric ``server.py`` exports: the model-server part of the project's
metric contract (``contract/metric-contract.ts``). ``workload.spec.ts`` fails when the two disagree; nothing else
in the workload spells a metric name.
"""

#: Labels every metric carries; their values come from these environment variables.
MODEL_LABELS = ("model", "version", "namespace")
LABEL_ENV = {"model": "MODEL_NAME", "version": "MODEL_VERSION", "namespace": "POD_NAMESPACE"}

#: Prediction requests served, by HTTP status code (counter).
REQUESTS_TOTAL = "mlops_model_requests_total"
REQUESTS_LABELS = MODEL_LABELS + ("code",)
REQUESTS_HELP = "Prediction requests served, by HTTP status code."

#: Prediction request latency in seconds (histogram).
REQUEST_DURATION = "mlops_model_request_duration_seconds"
REQUEST_DURATION_LABELS = MODEL_LABELS
REQUEST_DURATION_HELP = "Prediction request latency, from request received to response written."
REQUEST_DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

#: Prediction requests that failed: 5xx or an exception in the model (counter).
REQUEST_ERRORS_TOTAL = "mlops_model_request_errors_total"
REQUEST_ERRORS_LABELS = MODEL_LABELS
REQUEST_ERRORS_HELP = "Prediction requests that failed (5xx or an exception in the model)."

#: Share (0-1) of recent predictions matching the labelled feedback received for them (gauge).
PREDICTION_ACCURACY = "mlops_model_prediction_accuracy"
PREDICTION_ACCURACY_LABELS = MODEL_LABELS
PREDICTION_ACCURACY_HELP = "Share (0-1) of recent predictions that match the labelled feedback received for them."

#: Labelled feedback samples received, the accuracy gauge's sample size (counter).
FEEDBACK_TOTAL = "mlops_model_feedback_total"
FEEDBACK_LABELS = MODEL_LABELS
FEEDBACK_HELP = "Labelled feedback samples received (the accuracy gauge's sample size)."

#: Per-feature drift of recent request inputs against the training reference sample (gauge).
#: The value is the two-sample Kolmogorov-Smirnov statistic, 0 (same distribution) to 1.
FEATURE_DRIFT_SCORE = "mlops_model_data_drift_score"
FEATURE_DRIFT_LABELS = MODEL_LABELS + ("feature",)
FEATURE_DRIFT_HELP = (
    "Data-drift score per input feature of recent requests against the training data "
    "(two-sample Kolmogorov-Smirnov statistic); 0 is no drift, 1 disjoint."
)

#: Every series name of the contract the server exposes (histograms expand to _bucket, _sum and _count); beside them
#: prometheus_client adds a ``<name>_created`` gauge per counter and histogram, which nothing queries.
SERIES_NAMES = (
    REQUESTS_TOTAL,
    REQUEST_DURATION + "_bucket",
    REQUEST_DURATION + "_sum",
    REQUEST_DURATION + "_count",
    REQUEST_ERRORS_TOTAL,
    PREDICTION_ACCURACY,
    FEEDBACK_TOTAL,
    FEATURE_DRIFT_SCORE,
)
