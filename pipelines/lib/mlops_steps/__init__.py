"""The pipelines' step library: artifact store access, the Kubernetes API, the Pushgateway, the run pruner.

Shipped into step pods by the ConfigMap `pipeline-lib`, mounted as this package under /opt/pipeline-lib, which is
on the steps' PYTHONPATH; the tests put pipelines/lib on it the same way.
"""
