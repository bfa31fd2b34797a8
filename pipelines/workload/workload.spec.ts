import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";

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
        const probe = spawnSync(PYTHON, ["-c", `
import importlib, sys
missing = []
for m in sys.argv[1:]:
    try: importlib.import_module(m)
    except ImportError: missing.append(m)
print(" ".join(missing))
sys.exit(1 if missing else 0)`, ...Object.keys(MODULES)], { encoding: "utf8", timeout: 120_000 });
        assert.ifError(probe.error); // ENOENT: /usr/bin/python3 is not installed
        const missing = probe.stdout.trim().split(/\s+/).filter(Boolean);
        assert.equal(probe.status, 0,
            `missing Python modules ${missing.join(", ")}: apt-get install ${missing.map((m) => MODULES[m]).join(" ")}\n${probe.stderr}`);
    });

    it("passes its unittest suite (train, evaluate gate, drift, server and metrics)", () => {
        const run = spawnSync(PYTHON, ["-m", "unittest", "discover", "-s", "tests", "-t", "."], {
            cwd: WORKLOAD,
            encoding: "utf8",
            timeout: 280_000,
            env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" },
        });
        assert.ifError(run.error);
        assert.equal(run.status, 0, `python3 -m unittest failed in ${path.relative(process.cwd(), WORKLOAD)}:\n${run.stderr}\n${run.stdout}`);
        assert.match(run.stderr, /^OK/m);
    });
});
