#!/usr/bin/env python3
"""Pushes delivery metrics to the Prometheus Pushgateway in the text exposition format.

Metric names are never spelled here: the Task definitions put them in the environment from the project's metric
contract (MLOPS_METRIC_<KEY>, e.g. MLOPS_METRIC_DEPLOY_LEAD_TIME). PUSHGATEWAY_URL comes from `pipeline-settings`.

Every push is grouped by job, model, version and mode (the URL path); the body carries the `namespace` label and
any extra labels, so a later push of another stage or model version never replaces this one.
"""

import os
import re
import time
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping

#: One sample: metric name, labels, value.
Sample = tuple[str, Mapping[str, object], float]

JOB = "mlops-delivery"
_LABEL_VALUE_ESCAPES = {"\\": "\\\\", "\n": "\\n", '"': '\\"'}


def metric_name(key: str, env: Mapping[str, str] | None = None) -> str:
    """The contract name of a metric from its environment key (`deployLeadTime` -> MLOPS_METRIC_DEPLOY_LEAD_TIME)."""
    env = os.environ if env is None else env
    var = "MLOPS_METRIC_" + re.sub(r"(?<!^)([A-Z])", r"_\1", key).upper()
    name = env.get(var)
    if not name:
        raise KeyError(f"{var} is not set: the Task must pass the metric names of the contract")
    return name


def escape(value: object) -> str:
    """A label value escaped for the text exposition format."""
    return "".join(_LABEL_VALUE_ESCAPES.get(c, c) for c in str(value))


def exposition(samples: Iterable[Sample]) -> str:
    """Text exposition of gauges: samples is a list of (name, labels dict, value); one TYPE line per name."""
    lines = []
    typed = set()
    for name, labels, value in samples:
        if name not in typed:
            lines.append(f"# TYPE {name} gauge")
            typed.add(name)
        body = ",".join(f'{k}="{escape(v)}"' for k, v in sorted(labels.items()))
        lines.append(f"{name}{{{body}}} {float(value)!r}" if body else f"{name} {float(value)!r}")
    return "\n".join(lines) + "\n"


def group_url(base: str, grouping: Iterable[tuple[str, object]]) -> str:
    """The Pushgateway URL of a group: job, then the grouping labels, each value path-escaped."""
    path = "/metrics/job/" + urllib.parse.quote(JOB, safe="")
    for k, v in grouping:
        # An empty value cannot stand in a path segment: the Pushgateway takes it base64-encoded, as "=".
        path += f"/{k}@base64/=" if str(v) == "" else f"/{k}/{urllib.parse.quote(str(v), safe='')}"
    return base.rstrip("/") + path


def push(base_url: str, grouping: Iterable[tuple[str, object]], samples: Iterable[Sample], timeout: float = 10) -> None:
    """PUTs the samples as the whole group (replacing what that group held)."""
    req = urllib.request.Request(
        group_url(base_url, grouping),
        data=exposition(samples).encode(),
        method="PUT",
        headers={"Content-Type": "text/plain; version=0.0.4"},
    )
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        if resp.status not in (200, 202):
            raise RuntimeError(f"Pushgateway answered {resp.status}")


def now() -> float:
    """Seconds since the epoch (one place for the tests to see what steps read)."""
    return time.time()
