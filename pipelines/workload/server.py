"""HTTP model server of the reference workload: standard library http.server + prometheus_client.

    MODEL_NAME=iris MODEL_VERSION=v1 POD_NAMESPACE=model-iris-v1 \
        python3 server.py --model-dir DIR [--host 0.0.0.0] [--port 8080] [--metrics-port 9090]

Endpoints (JSON in, JSON out):
  POST /predict   {"instances": [[5.1, 3.5, 1.4, 0.2], ...]} or [{"feature": value, ...}, ...]
                  -> {"predictions": [...], "ids": [...], "model": ..., "version": ...}
  POST /feedback  {"feedback": [{"id": "<id from /predict>", "label": 0}, ...]}
                  or {"instances": [...], "labels": [...]} (predicted now and compared)
                  -> {"matched": n, "unknown_ids": [...], "accuracy": ...}
  GET  /healthz   -> {"status": "ok", ...}
Metrics (see metric_names.py) on a separate port at /metrics. The model is loaded from DIR (train.py's output).
Port 0 picks a free port; the chosen ports are printed as one JSON line on stdout.
"""

import argparse
import collections
import json
import os
import signal
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import data as ds
import joblib
import metric_names as mn
import numpy as np
from model_files import MODEL_FILE, PARAMS_FILE, REFERENCE_FILE
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from scipy.stats import ks_2samp

MAX_BODY = 1 << 20  # bytes
MAX_INSTANCES = 1000


class BadRequest(Exception):
    pass


def _labels_from_env(env=None):
    env = os.environ if env is None else env
    return {k: env.get(v, "unknown") or "unknown" for k, v in mn.LABEL_ENV.items()}


class ModelService:
    """The model, its prediction memory, feedback accuracy, drift window and metrics (one registry per service)."""

    def __init__(
        self,
        model_dir,
        labels=None,
        registry=None,
        feedback_window=1000,
        drift_window=500,
        drift_min_samples=30,
        memory=10000,
    ):
        self.model = joblib.load(os.path.join(model_dir, MODEL_FILE))
        with open(os.path.join(model_dir, PARAMS_FILE)) as f:
            self.params = json.load(f)
        self.features = list(self.params["features"])
        ref_path = os.path.join(model_dir, REFERENCE_FILE)
        self.reference = ds.read_csv(ref_path, require_target=False)[0] if os.path.exists(ref_path) else None
        self.labels = dict(labels or _labels_from_env())
        self.registry = registry or CollectorRegistry()
        self.lock = threading.Lock()
        self.predictions = collections.OrderedDict()  # id -> prediction, bounded
        self.memory = memory
        self.outcomes = collections.deque(maxlen=feedback_window)  # 1 correct / 0 wrong
        self.recent = collections.deque(maxlen=drift_window)  # recent input rows
        self.drift_min_samples = drift_min_samples

        names = list(mn.MODEL_LABELS)
        r = self.registry
        self.requests = Counter(mn.REQUESTS_TOTAL, mn.REQUESTS_HELP, mn.REQUESTS_LABELS, registry=r)
        self.duration = Histogram(
            mn.REQUEST_DURATION,
            mn.REQUEST_DURATION_HELP,
            mn.REQUEST_DURATION_LABELS,
            buckets=mn.REQUEST_DURATION_BUCKETS,
            registry=r,
        )
        self.errors = Counter(mn.REQUEST_ERRORS_TOTAL, mn.REQUEST_ERRORS_HELP, mn.REQUEST_ERRORS_LABELS, registry=r)
        self.accuracy = Gauge(
            mn.PREDICTION_ACCURACY, mn.PREDICTION_ACCURACY_HELP, mn.PREDICTION_ACCURACY_LABELS, registry=r
        )
        self.feedback = Counter(mn.FEEDBACK_TOTAL, mn.FEEDBACK_HELP, mn.FEEDBACK_LABELS, registry=r)
        self.drift = Gauge(mn.FEATURE_DRIFT_SCORE, mn.FEATURE_DRIFT_HELP, mn.FEATURE_DRIFT_LABELS, registry=r)
        lv = [self.labels[k] for k in names]
        # Create the label sets up front so every series exists from the first scrape.
        self.duration.labels(*lv)
        self.errors.labels(*lv)
        self.feedback.labels(*lv)
        self.accuracy.labels(*lv).set(float("nan"))  # no feedback yet
        for f in self.features:
            self.drift.labels(*lv, f).set(0.0)
        self._lv = lv

    # -- input -------------------------------------------------------------------------------------------------
    def to_matrix(self, instances):
        if not isinstance(instances, list) or not instances:
            raise BadRequest("'instances' must be a non-empty list")
        if len(instances) > MAX_INSTANCES:
            raise BadRequest(f"at most {MAX_INSTANCES} instances per request")
        rows = []
        for i, inst in enumerate(instances):
            if isinstance(inst, dict):
                missing = [f for f in self.features if f not in inst]
                if missing:
                    raise BadRequest(f"instance {i}: missing features {missing}")
                inst = [inst[f] for f in self.features]
            if not isinstance(inst, list) or len(inst) != len(self.features):
                raise BadRequest(f"instance {i}: expected {len(self.features)} values ({', '.join(self.features)})")
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in inst):
                raise BadRequest(f"instance {i}: values must be numbers")
            rows.append([float(v) for v in inst])
        X = np.array(rows, dtype=float)
        if not np.all(np.isfinite(X)):
            raise BadRequest("values must be finite")
        return X

    # -- operations --------------------------------------------------------------------------------------------
    def predict(self, instances):
        X = self.to_matrix(instances)
        preds = [ds._plain(p) for p in self.model.predict(X)]
        ids = [uuid.uuid4().hex for _ in preds]
        with self.lock:
            for i, p in zip(ids, preds, strict=True):
                self.predictions[i] = p
            while len(self.predictions) > self.memory:
                self.predictions.popitem(last=False)
            self.recent.extend(X)
            self._update_drift()
        return {"predictions": preds, "ids": ids, "model": self.labels["model"], "version": self.labels["version"]}

    def _update_drift(self):
        if self.reference is None or len(self.recent) < self.drift_min_samples:
            return
        recent = np.array(self.recent)
        for j, f in enumerate(self.features):
            self.drift.labels(*self._lv, f).set(float(ks_2samp(self.reference[:, j], recent[:, j]).statistic))

    def record_feedback(self, body):
        if not isinstance(body, dict):
            raise BadRequest("body must be a JSON object")
        pairs, unknown = [], []
        if "feedback" in body:
            items = body["feedback"]
            if not isinstance(items, list) or not items:
                raise BadRequest("'feedback' must be a non-empty list of {id, label}")
            with self.lock:
                for k, it in enumerate(items):
                    if not isinstance(it, dict) or "id" not in it or "label" not in it:
                        raise BadRequest(f"feedback {k}: expected an object with 'id' and 'label'")
                    if it["id"] in self.predictions:
                        pairs.append((self.predictions[it["id"]], it["label"]))
                    else:
                        unknown.append(it["id"])
        elif "instances" in body and "labels" in body:
            labels = body["labels"]
            X = self.to_matrix(body["instances"])
            if not isinstance(labels, list) or len(labels) != len(X):
                raise BadRequest("'labels' must be a list as long as 'instances'")
            pairs = list(zip([ds._plain(p) for p in self.model.predict(X)], labels, strict=True))
        else:
            raise BadRequest("expected 'feedback' (ids from /predict) or 'instances' with 'labels'")
        with self.lock:
            for pred, label in pairs:
                self.outcomes.append(1 if str(pred) == str(label) else 0)
            if pairs:
                self.feedback.labels(*self._lv).inc(len(pairs))
            acc = sum(self.outcomes) / len(self.outcomes) if self.outcomes else None
            if acc is not None:
                self.accuracy.labels(*self._lv).set(acc)
        return {"matched": len(pairs), "unknown_ids": unknown, "accuracy": acc, "window": len(self.outcomes)}

    def metrics_text(self):
        return generate_latest(self.registry)


def _handler(service, access_log=True):
    class Handler(BaseHTTPRequestHandler):
        server_version = "mlops-testbed-model/1"
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # one JSON line per request on stderr
            if access_log:
                sys.stderr.write(json.dumps({"client": self.client_address[0], "msg": fmt % args}) + "\n")

        def parse_request(self):
            # One handler serves every request of a keep-alive connection: nothing of this request's body read yet.
            self._body_read = False
            return super().parse_request()

        def _send(self, code, obj):
            # A body left unread would be read as the next request of this connection, which a gateway reuses for
            # other clients' requests (a POST to an unknown path failed every request after it): read and drop it
            # before answering, or close the connection when it is not one this server reads (too large, chunked).
            keep_alive = self._drain_unread_body()
            body = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            if not keep_alive:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(body)

        def _drain_unread_body(self):
            """Reads and drops what is left of the request's body; False when the connection must close instead."""
            if self._body_read:
                return True
            n = self._content_length()
            if "Transfer-Encoding" in self.headers or n is None or n < 0 or n > MAX_BODY:
                return False
            self.rfile.read(n)
            self._body_read = True
            return True

        def _content_length(self):
            """The request's Content-Length (0 without one), or None when it is not a number."""
            try:
                return int(self.headers.get("Content-Length") or 0)
            except ValueError:
                return None

        def _body(self):
            n = self._content_length()
            if n is None:
                raise BadRequest("bad Content-Length")
            if n <= 0:
                raise BadRequest("empty body")
            if n > MAX_BODY:
                raise BadRequest(f"body larger than {MAX_BODY} bytes")
            raw = self.rfile.read(n)
            self._body_read = True
            try:
                return json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                raise BadRequest("body is not valid JSON") from None

        def do_GET(self):
            if self.path == "/healthz":
                self._send(
                    200,
                    {
                        "status": "ok",
                        "model": service.labels["model"],
                        "version": service.labels["version"],
                        "features": service.features,
                    },
                )
            else:
                self._send(404, {"error": f"no route GET {self.path}"})

        def do_POST(self):
            if self.path == "/predict":
                self._predict()
            elif self.path == "/feedback":
                try:
                    self._send(200, service.record_feedback(self._body()))
                except BadRequest as e:
                    self._send(400, {"error": str(e)})
                except Exception as e:  # noqa: BLE001 - report, keep serving
                    self._send(500, {"error": f"{type(e).__name__}: {e}"})
            else:
                self._send(404, {"error": f"no route POST {self.path}"})

        def _predict(self):
            start = time.perf_counter()
            code = 200
            try:
                body = self._body()
                if not isinstance(body, dict) or "instances" not in body:
                    raise BadRequest("body must be an object with 'instances'")
                result = service.predict(body["instances"])
            except BadRequest as e:
                code, result = 400, {"error": str(e)}
            except Exception as e:  # noqa: BLE001 - an exception in the model is a 500 and an error
                code, result = 500, {"error": f"{type(e).__name__}: {e}"}
            # Recorded before the response is written, so a client that scrapes right after its answer sees it.
            lv = service._lv
            service.requests.labels(*lv, str(code)).inc()
            if code >= 500:
                service.errors.labels(*lv).inc()
            service.duration.labels(*lv).observe(time.perf_counter() - start)
            self._send(code, result)

    return Handler


def _metrics_handler(service):
    class MetricsHandler(BaseHTTPRequestHandler):
        def log_message(self, fmt, *args):
            pass

        def do_GET(self):
            if self.path.split("?")[0] not in ("/metrics", "/"):
                self.send_error(404)
                return
            body = service.metrics_text()
            self.send_response(200)
            self.send_header("Content-Type", CONTENT_TYPE_LATEST)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return MetricsHandler


class ModelServer:
    """The API server and the metrics server, each in a daemon thread; start() then stop()."""

    def __init__(self, model_dir, host="127.0.0.1", port=8080, metrics_port=9090, labels=None, access_log=True):
        self.service = ModelService(model_dir, labels=labels)
        self.api = ThreadingHTTPServer((host, port), _handler(self.service, access_log))
        self.metrics = ThreadingHTTPServer((host, metrics_port), _metrics_handler(self.service))
        self.api.daemon_threads = self.metrics.daemon_threads = True
        self._threads = []

    @property
    def port(self):
        return self.api.server_address[1]

    @property
    def metrics_port(self):
        return self.metrics.server_address[1]

    def start(self):
        for srv in (self.api, self.metrics):
            t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self):
        for srv in (self.api, self.metrics):
            srv.shutdown()
            srv.server_close()
        for t in self._threads:
            t.join(timeout=5)


def main(argv=None):
    p = argparse.ArgumentParser(description="Serve the reference model over HTTP with Prometheus metrics.")
    p.add_argument("--model-dir", default=os.environ.get("MODEL_DIR"), help="train.py output (env MODEL_DIR)")
    p.add_argument("--host", default="0.0.0.0")
    p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")))
    p.add_argument("--metrics-port", type=int, default=int(os.environ.get("METRICS_PORT", "9090")))
    a = p.parse_args(argv)
    if not a.model_dir:
        p.error("--model-dir (or MODEL_DIR) is required")
    # The handlers come first: a SIGTERM sent as soon as the start-up line is read (or while the model loads) ends the
    # server cleanly rather than by the signal's default action.
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    server = ModelServer(a.model_dir, a.host, a.port, a.metrics_port).start()
    print(
        json.dumps(
            {
                "listening": f"{a.host}:{server.port}",
                "metrics": f"{a.host}:{server.metrics_port}",
                **server.service.labels,
            }
        ),
        flush=True,
    )
    # A timed wait: the kernel may hand SIGTERM to one of the servers' threads, and Python runs the handler only in
    # the main thread, when it next wakes. An untimed wait then slept on until the kubelet's SIGKILL, 30 s later.
    while not stop.wait(0.5):
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
