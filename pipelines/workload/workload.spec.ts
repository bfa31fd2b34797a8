import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { METRICS, type MetricKey } from "../../contract/metric-contract";

/** Debian's interpreter: the python3-* packages belong to it, not to a python3 earlier on PATH. */
const PYTHON = "/usr/bin/python3";
const WORKLOAD = __dirname;
/** Modules the workload imports, and the Debian package that provides each (`.ci/run` installs them). */
const MODULES: Record<string, string> = {
    sklearn: "python3-sklearn",
    scipy: "python3-scipy",
    numpy: "python3-numpy",
    joblib: "python3-joblib",
    prometheus_client: "python3-prometheus-client",
};

describe("reference workload (Python, Debian packages)", function () {
    this.timeout(300_000);

    it("has Debian's python3 with every module the workload imports", () => {
        const probe = spawnSync(
            PYTHON,
            [
                "-c",
                `
import importlib, sys
missing = []
for m in sys.argv[1:]:
    try: importlib.import_module(m)
    except ImportError: missing.append(m)
print(" ".join(missing))
sys.exit(1 if missing else 0)`,
                ...Object.keys(MODULES),
            ],
            { encoding: "utf8", timeout: 120_000 },
        );
        assert.ifError(probe.error); // ENOENT: /usr/bin/python3 is not installed
        const missing = probe.stdout.trim().split(/\s+/).filter(Boolean);
        assert.equal(
            probe.status,
            0,
            `missing Python modules ${missing.join(", ")}: apt-get install ${missing.map((m) => MODULES[m]).join(" ")}\n${probe.stderr}`,
        );
    });

    it("passes its unittest suite (train, evaluate gate, drift, server and metrics)", () => {
        const run = spawnSync(PYTHON, ["-m", "unittest", "discover", "-s", "tests", "-t", "."], {
            cwd: WORKLOAD,
            encoding: "utf8",
            timeout: 280_000,
            env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" },
        });
        assert.ifError(run.error);
        assert.equal(
            run.status,
            0,
            `python3 -m unittest failed in ${path.relative(process.cwd(), WORKLOAD)}:\n${run.stderr}\n${run.stdout}`,
        );
        assert.match(run.stderr, /^OK/m);
    });

    it("exports exactly the model-server part of the metric contract (names, labels, help, buckets)", () => {
        // Contract key → [constant holding the name, prefix of its _LABELS/_HELP/_BUCKETS constants] in metric_names.py.
        const PYTHON_NAMES: Record<string, readonly [string, string]> = {
            requests: ["REQUESTS_TOTAL", "REQUESTS"],
            requestErrors: ["REQUEST_ERRORS_TOTAL", "REQUEST_ERRORS"],
            requestDuration: ["REQUEST_DURATION", "REQUEST_DURATION"],
            predictionAccuracy: ["PREDICTION_ACCURACY", "PREDICTION_ACCURACY"],
            feedback: ["FEEDBACK_TOTAL", "FEEDBACK"],
            dataDrift: ["FEATURE_DRIFT_SCORE", "FEATURE_DRIFT"],
        };
        const dump = spawnSync(
            PYTHON,
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
            { cwd: WORKLOAD, encoding: "utf8", timeout: 60_000 },
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
