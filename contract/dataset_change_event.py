"""What every dataset-change consumer hands the EventListener: S3's EventBridge "Object Created" shape.

Part of the contract between the platforms, whose consumer scripts import it, and the cluster layer, whose dataset
trigger accepts this shape and which ships this file beside the platform's scripts
(pipelines/install/dataset-changes.ts).

The dataset trigger's CEL filter reads `source`, `detail-type` and `detail.object.key`; its binding reads
`detail.object.key` and `time`. `detail.bucket.name` names the store. Nothing else is sent.
"""

import datetime
import json
import re
import sys
import urllib.request


def object_created(bucket, key, time):
    """The listener's dataset-change event for one created object."""
    return {
        "source": "aws.s3",
        "detail-type": "Object Created",
        "time": time,
        "detail": {"bucket": {"name": bucket}, "object": {"key": key}},
    }


RFC3339 = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def rfc3339_seconds(value):
    """A time (RFC 3339 text with any fraction, or an aware datetime) -> UTC to the second, as EventBridge writes it."""
    if isinstance(value, str):
        m = RFC3339.match(value)
        if not m:
            raise ValueError(f"not an RFC 3339 time: {value!r}")
        value = datetime.datetime.fromisoformat(m.group(1) + ("+00:00" if m.group(3) == "Z" else m.group(3)))
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def post(url, event, timeout=10):
    """POST one event to the EventListener; True when it took it (2xx)."""
    req = urllib.request.Request(
        url, data=json.dumps(event).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return 200 <= resp.status < 300
    except OSError as err:
        log(f"listener refused or unreachable: {err}")
        return False


def log(msg):
    print(msg, file=sys.stderr, flush=True)
