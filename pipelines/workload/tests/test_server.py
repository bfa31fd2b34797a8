import ctypes
import http.client
import json
import os
import select
import signal
import subprocess
import sys
import unittest
import urllib.error
import urllib.request

import data as ds
import metric_names as mn
from prometheus_client.parser import text_string_to_metric_families
from server import ModelServer

from tests.helpers import WORKLOAD, trained_model

LABELS = {"model": "iris", "version": "v7", "namespace": "model-iris-v7"}
TIMEOUT = 10


def call(url, body=None):
    """(status, parsed JSON) of a GET (body None) or a JSON POST."""
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def samples(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=TIMEOUT) as r:
        text = r.read().decode()
    return [s for f in text_string_to_metric_families(text) for s in f.samples]


class ServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model_dir, _ = trained_model(cls)
        cls.X, cls.y, cls.features = ds.read_csv(os.path.join(cls.model_dir, "holdout.csv"))

    def setUp(self):
        self.server = ModelServer(self.model_dir, "127.0.0.1", 0, 0, labels=LABELS, access_log=False).start()
        self.api = f"http://127.0.0.1:{self.server.port}"

    def tearDown(self):
        self.server.stop()

    def test_healthz(self):
        self.assertEqual(
            call(self.api + "/healthz"),
            (200, {"status": "ok", "model": "iris", "version": "v7", "features": self.features}),
        )
        self.assertEqual(call(self.api + "/nope")[0], 404)

    def test_predict_lists_and_objects(self):
        rows = self.X[:5].tolist()
        code, body = call(self.api + "/predict", {"instances": rows})
        self.assertEqual(code, 200, body)
        self.assertEqual(len(body["predictions"]), 5)
        self.assertEqual(len(set(body["ids"])), 5)
        self.assertTrue(set(body["predictions"]) <= {0, 1, 2})
        objs = [dict(zip(self.features, r, strict=True)) for r in rows]
        self.assertEqual(call(self.api + "/predict", {"instances": objs})[1]["predictions"], body["predictions"])

    def test_a_request_after_one_with_an_unread_body_on_the_same_connection_is_served(self):
        # A gateway sends many clients' requests over one keep-alive connection: a POST the server answers without
        # using its body must not leave the body to be read as the next request.
        rows = json.dumps({"instances": self.X[:1].tolist()})
        headers = {"Content-Type": "application/json"}

        def predict(conn):
            conn.request("POST", "/predict", rows, headers)
            r = conn.getresponse()
            return r.status, r.read()[:16], r.getheader("Connection")

        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=TIMEOUT)
        try:
            # A body the server can read (an unknown path): dropped, and the connection carries the next request.
            conn.request("POST", "/nope", rows, headers)
            first = conn.getresponse()
            first.read()
            self.assertEqual((first.status, first.getheader("Connection")), (404, None))
            sock = conn.sock
            self.assertEqual(predict(conn), (200, b'{"predictions": ', None))
            self.assertIs(conn.sock, sock, "the same connection")

            # A body larger than the server reads: refused from its headers, and the connection closed.
            conn.putrequest("POST", "/predict")
            conn.putheader("Content-Type", "application/json")
            conn.putheader("Content-Length", str(2 << 20))
            conn.endheaders()
            refused = conn.getresponse()
            refused.read()
            self.assertEqual((refused.status, refused.getheader("Connection")), (400, "close"))
            # http.client opens a new connection once the server said close.
            self.assertEqual(predict(conn), (200, b'{"predictions": ', None))
        finally:
            conn.close()

    def test_bad_requests_are_400(self):
        for body in ({"instances": [[1, 2]]}, {"instances": []}, {"x": 1}, {"instances": [["a", 1, 2, 3]]}, b"{not"):
            code, resp = call(self.api + "/predict", body)
            self.assertEqual(code, 400, body)
            self.assertIn("error", resp)

    def test_feedback_accuracy_and_metrics(self):
        code, pred = call(self.api + "/predict", {"instances": self.X.tolist()})
        self.assertEqual(code, 200)
        expected = sum(int(p == t) for p, t in zip(pred["predictions"], self.y.tolist(), strict=True)) / len(self.y)
        fb = [{"id": i, "label": int(t)} for i, t in zip(pred["ids"], self.y.tolist(), strict=True)] + [
            {"id": "x", "label": 0}
        ]
        code, res = call(self.api + "/feedback", {"feedback": fb})
        self.assertEqual(code, 200, res)
        self.assertEqual((res["matched"], res["unknown_ids"]), (len(self.y), ["x"]))
        self.assertAlmostEqual(res["accuracy"], expected)
        self.assertGreaterEqual(res["accuracy"], 0.9)
        # all labels wrong, sent with the instances: accuracy over the window drops
        wrong = ((self.y + 1) % 3).tolist()
        code, res2 = call(self.api + "/feedback", {"instances": self.X.tolist(), "labels": wrong})
        self.assertEqual(code, 200, res2)
        hits = sum(
            int(p == w) for p, w in zip(pred["predictions"], wrong, strict=True)
        )  # where the model was wrong too
        expected2 = (expected * len(self.y) + hits) / (2 * len(self.y))
        self.assertAlmostEqual(res2["accuracy"], expected2)
        call(self.api + "/predict", {"instances": [[1, 2]]})  # one 400

        got = samples(self.server.metrics_port)
        by_name = {}
        for s in got:
            by_name.setdefault(s.name, []).append(s)
        for name in mn.SERIES_NAMES:
            self.assertIn(name, by_name, name)
            for s in by_name[name]:
                self.assertEqual({k: s.labels[k] for k in mn.MODEL_LABELS}, LABELS, name)
        req = {s.labels["code"]: s.value for s in by_name[mn.REQUESTS_TOTAL]}
        self.assertEqual(req, {"200": 1.0, "400": 1.0})
        self.assertEqual(by_name[mn.REQUEST_DURATION + "_count"][0].value, 2.0)
        self.assertEqual(by_name[mn.REQUEST_ERRORS_TOTAL][0].value, 0.0)
        self.assertAlmostEqual(by_name[mn.PREDICTION_ACCURACY][0].value, expected2)
        self.assertEqual(by_name[mn.FEEDBACK_TOTAL][0].value, 2.0 * len(self.y))
        drift = {s.labels["feature"]: s.value for s in by_name[mn.FEATURE_DRIFT_SCORE]}
        self.assertEqual(sorted(drift), sorted(self.features))
        self.assertTrue(all(0 < v < 0.5 for v in drift.values()), drift)  # 38 in-distribution rows: low

    def test_exposes_exactly_the_series_of_metric_names_with_their_type_help_and_labels(self):
        # workload.spec.ts holds metric_names.py to the project's metric contract; this holds the scrape to it.
        call(self.api + "/predict", {"instances": self.X[:1].tolist()})
        with urllib.request.urlopen(f"http://127.0.0.1:{self.server.metrics_port}/metrics", timeout=TIMEOUT) as r:
            families = {f.name: f for f in text_string_to_metric_families(r.read().decode())}
        expected = {
            mn.REQUESTS_TOTAL.removesuffix("_total"): ("counter", mn.REQUESTS_HELP, mn.REQUESTS_LABELS),
            mn.REQUEST_DURATION: ("histogram", mn.REQUEST_DURATION_HELP, mn.REQUEST_DURATION_LABELS),
            mn.REQUEST_ERRORS_TOTAL.removesuffix("_total"): (
                "counter",
                mn.REQUEST_ERRORS_HELP,
                mn.REQUEST_ERRORS_LABELS,
            ),
            mn.PREDICTION_ACCURACY: ("gauge", mn.PREDICTION_ACCURACY_HELP, mn.PREDICTION_ACCURACY_LABELS),
            mn.FEEDBACK_TOTAL.removesuffix("_total"): ("counter", mn.FEEDBACK_HELP, mn.FEEDBACK_LABELS),
            mn.FEATURE_DRIFT_SCORE: ("gauge", mn.FEATURE_DRIFT_HELP, mn.FEATURE_DRIFT_LABELS),
        }
        # prometheus_client adds a <family>_created gauge (creation time) to every counter and histogram.
        created = {f"{name}_created" for name, (kind, _, _) in expected.items() if kind != "gauge"}
        self.assertEqual(set(families), set(expected) | created)
        for name, (kind, help_text, labels) in expected.items():
            family = families[name]
            self.assertEqual((family.type, family.documentation), (kind, help_text), name)
            for s in family.samples:
                extra = ("le",) if s.name.endswith("_bucket") else ()
                self.assertEqual(sorted(s.labels), sorted(labels + extra), s.name)
        series = {s.name for name in expected for s in families[name].samples}
        self.assertEqual(series, set(mn.SERIES_NAMES))

    def test_drift_gauge_rises_on_shifted_inputs(self):
        shifted = self.X.copy()
        shifted[:, self.features.index("petal_width_cm")] += 5.0
        self.assertEqual(call(self.api + "/predict", {"instances": shifted.tolist()})[0], 200)
        drift = {
            s.labels["feature"]: s.value for s in samples(self.server.metrics_port) if s.name == mn.FEATURE_DRIFT_SCORE
        }
        self.assertEqual(drift["petal_width_cm"], 1.0)
        self.assertLess(drift["sepal_width_cm"], 0.5)

    def test_model_exception_is_500_and_error(self):
        self.server.service.model = None  # predict raises AttributeError
        code, body = call(self.api + "/predict", {"instances": self.X[:1].tolist()})
        self.assertEqual(code, 500, body)
        errs = [s.value for s in samples(self.server.metrics_port) if s.name == mn.REQUEST_ERRORS_TOTAL]
        self.assertEqual(errs, [1.0])


class ServerProcessTest(unittest.TestCase):
    """server.py as a process: labels from the environment, ephemeral ports, stops on SIGTERM."""

    @classmethod
    def setUpClass(cls):
        cls.model_dir, _ = trained_model(cls)

    def setUp(self):
        env = dict(os.environ, MODEL_NAME="iris", MODEL_VERSION="v1", POD_NAMESPACE="model-iris-v1")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                os.path.join(WORKLOAD, "server.py"),
                "--model-dir",
                self.model_dir,
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--metrics-port",
                "0",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )

    def tearDown(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc.stdout.close()

    def started(self):
        """The start-up line server.py prints once both servers listen, as JSON."""
        ready, _, _ = select.select([self.proc.stdout], [], [], 60)
        self.assertTrue(ready, "server.py printed no start-up line within 60 s")
        return json.loads(self.proc.stdout.readline())

    def test_serves_with_env_labels(self):
        info = self.started()
        self.assertEqual((info["model"], info["version"], info["namespace"]), ("iris", "v1", "model-iris-v1"))
        api = "http://" + info["listening"]
        self.assertEqual(call(api + "/healthz")[0], 200)
        self.assertEqual(call(api + "/predict", {"instances": [[5.1, 3.5, 1.4, 0.2]]})[1]["predictions"], [0])
        port = int(info["metrics"].rsplit(":", 1)[1])
        req = [s for s in samples(port) if s.name == mn.REQUESTS_TOTAL]
        self.assertEqual(
            [(s.labels, s.value) for s in req],
            [({"model": "iris", "version": "v1", "namespace": "model-iris-v1", "code": "200"}, 1.0)],
        )
        self.proc.terminate()
        self.assertEqual(self.proc.wait(timeout=10), 0)

    def test_stops_when_sigterm_lands_on_a_server_thread(self):
        # The kernel delivers a process's SIGTERM to any thread that does not block it; tgkill picks one here.
        self.started()
        pid = self.proc.pid
        others = [int(t) for t in os.listdir(f"/proc/{pid}/task") if int(t) != pid]
        self.assertTrue(others, "server.py runs its servers in threads of their own")
        libc = ctypes.CDLL(None, use_errno=True)
        self.assertEqual(libc.tgkill(pid, others[0], signal.SIGTERM), 0, os.strerror(ctypes.get_errno()))
        self.assertEqual(self.proc.wait(timeout=10), 0)


if __name__ == "__main__":
    unittest.main()
