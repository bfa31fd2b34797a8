"""S3's EventBridge "Object Created" sample (samples/eventbridge-object-created.json) and the listener's event it stands
for. Every platform's consumer test translates its own platform's sample of the same object and expects this event,
so the consumers are held to S3's real shape, not to a copy of it. Tests only: the consumers' ConfigMaps do not ship it.
"""

import json
import os

SAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "samples", "eventbridge-object-created.json")


def expected_event(bucket):
    """The fields of S3's sample that the dataset trigger reads, for a store named `bucket`."""
    with open(SAMPLE) as f:
        s3 = json.load(f)
    return {
        "source": s3["source"],
        "detail-type": s3["detail-type"],
        "time": s3["time"],
        "detail": {"bucket": {"name": bucket}, "object": {"key": s3["detail"]["object"]["key"]}},
    }
