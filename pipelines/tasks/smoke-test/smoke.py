#!/usr/bin/env python3
"""Smoke test of a deployed model version through its Service: /healthz answers, and /predict returns one
prediction per instance from the expected version. Env: URL (http://model-server.<ns>.svc...:8080), VERSION,
INSTANCES (JSON list), ATTEMPTS, INTERVAL.
"""

import json
import os
import sys
import time
import urllib.request


def check_prediction(answer, instances, version):
    """Problems with a /predict answer (empty: fine). A pure function."""
    problems = []
    preds = answer.get("predictions")
    if not isinstance(preds, list) or len(preds) != len(instances):
        problems.append(f"expected {len(instances)} predictions, got {preds!r}")
    if answer.get("version") != version:
        problems.append(f"answered by version {answer.get('version')!r}, expected {version!r}")
    return problems


def main():
    e = os.environ
    url, version = e["URL"].rstrip("/"), e["VERSION"]
    instances = json.loads(e["INSTANCES"])
    attempts, interval = int(e.get("ATTEMPTS", "30")), float(e.get("INTERVAL", "2"))
    for i in range(attempts):
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=5) as r:
                if r.status == 200:
                    break
        except OSError as err:
            print(f"healthz attempt {i + 1}: {err}")
        time.sleep(interval)
    else:
        print(f"{url}/healthz never answered", file=sys.stderr)
        return 1
    req = urllib.request.Request(
        url + "/predict",
        data=json.dumps({"instances": instances}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        answer = json.loads(r.read())
    problems = check_prediction(answer, instances, version)
    if problems:
        print("smoke test failed: " + "; ".join(problems), file=sys.stderr)
        return 1
    print(f"smoke test passed: {answer['predictions']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
