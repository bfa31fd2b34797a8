#!/usr/bin/env python3
"""Deletes Pushgateway groups whose last push is older than KEEP_DAYS.

Batch steps push one group per run (grouping key job/task/run), so groups pile up without end; Prometheus keeps
their history after the group is gone, for its own retention. Runs as a daily CronJob next to the Pushgateway.

Env: PUSHGATEWAY_URL (e.g. http://pushgateway:9091), KEEP_DAYS (whole days, > 0).
"""

import base64
import json
import os
import sys
import time
import urllib.parse
import urllib.request


def group_path(labels):
    """The /metrics/job/... path of a group; every value base64url-encoded, so '/' or '' cannot break it."""
    labels = dict(labels)
    job = labels.pop("job")

    def enc(value):
        return base64.urlsafe_b64encode(value.encode()).decode() or "="

    parts = ["metrics", "job@base64", enc(job)]
    for key in sorted(labels):
        parts += [f"{urllib.parse.quote(key, safe='')}@base64", enc(labels[key])]
    return "/" + "/".join(parts)


def push_time(group):
    """Unix time of a group's last successful push, or None when the group does not say."""
    samples = (group.get("push_time_seconds") or {}).get("metrics") or []
    try:
        return float(samples[0]["value"]) if samples else None
    except (KeyError, ValueError, TypeError):
        return None


def stale_groups(groups, now, keep_days):
    """Grouping labels of every group last pushed more than keep_days before now. Pure."""
    cutoff = now - keep_days * 86400
    stale = []
    for g in groups:
        labels, pushed = g.get("labels") or {}, push_time(g)
        if "job" in labels and pushed is not None and pushed < cutoff:
            stale.append(labels)
    return stale


def request(method, url):
    with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=30) as resp:
        return resp.read()


def main(env=os.environ, now=None, http=request):
    base = env["PUSHGATEWAY_URL"].rstrip("/")
    keep = int(env.get("KEEP_DAYS", "30"))
    if keep <= 0:
        print("KEEP_DAYS must be a whole number of days above 0", file=sys.stderr)
        return 2
    body = json.loads(http("GET", f"{base}/api/v1/metrics"))
    if body.get("status") != "success":
        print(f"Pushgateway answered {body.get('status')!r}: {body.get('error')}", file=sys.stderr)
        return 1
    stale = stale_groups(body.get("data") or [], time.time() if now is None else now, keep)
    for labels in stale:
        http("DELETE", base + group_path(labels))
        print("deleted group " + ", ".join(f"{k}={v}" for k, v in sorted(labels.items())))
    print(f"{len(stale)} group(s) older than {keep} day(s) deleted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
