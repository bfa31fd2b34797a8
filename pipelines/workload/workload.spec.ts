import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { METRICS, type MetricKey } from "../../contract/metric-contract";
import { assertUnittestPasses, runPython } from "../../test/python";

/** Debian's interpreter: the python3-* packages belong to it, not to a python3 earlier on PATH. */
const WORKLOAD = __dirname;

describe("reference workload (Python, the cluster's pinned packages)", function () {
    this.timeout(300_000);

    it("runs with exactly the packages the cluster pins (requirements.txt), from the project's environment", () => {
        const pins = fs
            .readFileSync(path.join(WORKLOAD, "requirements.txt"), "utf8")
            .split("\n")
            .map((l) => l.trim())
            .filter((l) => l && !l.startsWith("#"))
            .map((l) => l.split("=="));
        assert.ok(pins.length >= 5 && pins.every((p) => p.length === 2), "every requirement is pinned with ==");
        const probe = runPython(
            [
                "-c",
                "import json, sys; from importlib.metadata import version; print(json.dumps({p: version(p) for p in sys.argv[1:]}))",
                ...pins.map((p) => p[0]),
            ],
            { cwd: WORKLOAD, timeout: 60_000 },
        );
        assert.equal(probe.status, 0, probe.stderr);
        assert.deepEqual(JSON.parse(probe.stdout), Object.fromEntries(pins));
    });

    it("passes its unittest suite (train, evaluate gate, drift, server and metrics)", () => {
        assertUnittestPasses(WORKLOAD);
    });

    it("metric_names.py, all server.py registers (its scrape: test_server.py), is exactly the model-server part of the metric contract: names, labels, help, buckets", () => {
        // Contract key → [constant holding the name, prefix of its _LABELS/_HELP/_BUCKETS constants] in metric_names.py.
        const PYTHON_NAMES: Record<string, readonly [string, string]> = {
            requests: ["REQUESTS_TOTAL", "REQUESTS"],
            requestErrors: ["REQUEST_ERRORS_TOTAL", "REQUEST_ERRORS"],
            requestDuration: ["REQUEST_DURATION", "REQUEST_DURATION"],
            predictionAccuracy: ["PREDICTION_ACCURACY", "PREDICTION_ACCURACY"],
            feedback: ["FEEDBACK_TOTAL", "FEEDBACK"],
            dataDrift: ["FEATURE_DRIFT_SCORE", "FEATURE_DRIFT"],
        };
        const dump = runPython(
            [
                "-c",
                `
import json, sys, metric_names as mn
pairs = json.loads(sys.argv[1])
out = {key: {"name": getattr(mn, const), "labels": list(getattr(mn, p + "_LABELS")), "help": getattr(mn, p + "_HELP"),
             "buckets": list(getattr(mn, p + "_BUCKETS", ()))} for key, (const, p) in pairs.items()}
print(json.dumps({"metrics": out, "series": list(mn.SERIES_NAMES)}))`,
                JSON.stringify(PYTHON_NAMES),
            ],
            { cwd: WORKLOAD, pythonPath: [WORKLOAD], timeout: 60_000 },
        );
        assert.equal(dump.status, 0, dump.stderr);
        const python = JSON.parse(dump.stdout) as {
            metrics: Record<string, { name: string; labels: string[]; help: string; buckets: number[] }>;
            series: string[];
        };
        const serverMetrics = (Object.keys(METRICS) as MetricKey[]).filter((k) => METRICS[k].source === "model-server");
        assert.deepEqual(
            [...serverMetrics].sort(),
            Object.keys(PYTHON_NAMES).sort(),
            "every model-server metric of the contract has a Python constant",
        );
        const expectedSeries: string[] = [];
        for (const key of serverMetrics) {
            const spec = METRICS[key];
            const py = python.metrics[key];
            assert.equal(py.name, spec.name, `${key}: name`);
            assert.deepEqual(py.labels, [...spec.labels], `${key}: labels`);
            assert.equal(py.help, spec.help, `${key}: help`);
            assert.deepEqual(py.buckets, "buckets" in spec ? [...spec.buckets] : [], `${key}: buckets`);
            expectedSeries.push(
                ...(spec.type === "histogram" ? ["_bucket", "_sum", "_count"].map((s) => spec.name + s) : [spec.name]),
            );
        }
        assert.deepEqual([...python.series].sort(), expectedSeries.sort());
    });
});
