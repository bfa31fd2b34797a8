"""Tests of the Pushgateway clean-up; run from its directory, the top level (`-t .`), as the CronJob runs it."""

import base64
import json
import unittest

import cleanup

DAY = 86400
NOW = 1_800_000_000


def group(labels, pushed):
    g = {"labels": labels, "last_push_successful": True}
    if pushed is not None:
        g["push_time_seconds"] = {"type": "GAUGE", "metrics": [{"labels": labels, "value": f"{pushed:e}"}]}
    return g


def b64(text):
    return base64.urlsafe_b64encode(text.encode()).decode()


class Cleanup(unittest.TestCase):
    def test_only_groups_older_than_the_cutoff(self):
        groups = [
            group({"job": "delivery", "task": "deploy", "run": "old"}, NOW - 31 * DAY),
            group({"job": "delivery", "task": "deploy", "run": "new"}, NOW - 29 * DAY),
            group({"job": "delivery", "run": "unknown-time"}, None),
            group({"task": "no-job"}, NOW - 90 * DAY),
        ]
        self.assertEqual(cleanup.stale_groups(groups, NOW, 30), [{"job": "delivery", "task": "deploy", "run": "old"}])

    def test_paths_encode_every_value(self):
        path = cleanup.group_path({"job": "a/b", "run": "", "task": "deploy"})
        self.assertEqual(path, f"/metrics/job@base64/{b64('a/b')}/run@base64/=/task@base64/{b64('deploy')}")

    def test_main_deletes_the_stale_groups(self):
        calls = []
        body = {
            "status": "success",
            "data": [
                group({"job": "delivery", "run": "r1"}, NOW - 40 * DAY),
                group({"job": "delivery", "run": "r2"}, NOW - DAY),
            ],
        }

        def http(method, url):
            calls.append((method, url))
            return json.dumps(body).encode() if method == "GET" else b""

        code = cleanup.main({"PUSHGATEWAY_URL": "http://pg:9091/", "KEEP_DAYS": "30"}, now=NOW, http=http)
        self.assertEqual(code, 0)
        self.assertEqual(
            calls,
            [
                ("GET", "http://pg:9091/api/v1/metrics"),
                ("DELETE", f"http://pg:9091/metrics/job@base64/{b64('delivery')}/run@base64/{b64('r1')}"),
            ],
        )

    def test_refuses_a_non_positive_keep(self):
        self.assertEqual(cleanup.main({"PUSHGATEWAY_URL": "http://pg:9091", "KEEP_DAYS": "0"}, now=NOW, http=None), 2)


if __name__ == "__main__":
    unittest.main()
