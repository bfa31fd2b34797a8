import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { STEP_LIBRARY, assertUnittestPasses, kubeClientPath, runPython } from "../../test/python";
import { canonicalName, parsePins } from "../core/runtime";

const TASKS = __dirname;
const LIB = path.join(STEP_LIBRARY, "mlops_steps");
const scripts = (ext: string) => [
    ...fs
        .readdirSync(TASKS)
        .filter((d) => fs.statSync(path.join(TASKS, d)).isDirectory() && d !== "tests" && d !== "__pycache__")
        .flatMap((d) =>
            fs
                .readdirSync(path.join(TASKS, d))
                .filter((f) => f.endsWith(ext))
                .map((f) => path.join(TASKS, d, f)),
        ),
    ...fs
        .readdirSync(LIB)
        .filter((f) => f.endsWith(ext))
        .map((f) => path.join(LIB, f)),
];

describe("step scripts", function () {
    this.timeout(120_000);

    it("every shell script parses (sh -n) and stops on errors (set -eu)", () => {
        const files = scripts(".sh");
        assert.ok(files.length >= 6);
        for (const f of files) {
            const run = spawnSync("sh", ["-n", f], { encoding: "utf8" });
            assert.equal(run.status, 0, `${f}: ${run.stderr}`);
            assert.match(fs.readFileSync(f, "utf8"), /^set -eu$/m, `${f} sets -eu`);
        }
    });

    it("every library file a shell script runs by path exists where the library ConfigMap puts it ($LIB/<package>/...)", () => {
        // The pipeline library is mounted at $LIB with its modules under mlops_steps/ (pipelines/core/context.ts);
        // `npm run study:local` found quick-train calling $LIB/store.py, which no pod has.
        const refs = scripts(".sh").flatMap((f) =>
            [...fs.readFileSync(f, "utf8").matchAll(/"\$LIB\/([^"]+\.py)"/g)].map((m) => ({ f, rel: m[1] })),
        );
        for (const { f, rel } of refs)
            assert.ok(fs.existsSync(path.join(LIB, "..", rel)), `${f} runs $LIB/${rel}, which is not in pipelines/lib`);
        assert.doesNotMatch(
            fs.readFileSync(path.join(TASKS, "quick-train", "quick_train.sh"), "utf8"),
            /\$LIB\/store\.py/,
        );
    });

    it("every Python script compiles", () => {
        const files = scripts(".py");
        assert.ok(files.length >= 10);
        const run = runPython(
            ["-c", "import sys\nfor f in sys.argv[1:]: compile(open(f).read(), f, 'exec')", ...files],
            {
                cwd: TASKS,
            },
        );
        assert.equal(run.status, 0, run.stderr);
    });

    it("are tested with exactly the Kubernetes client closure the step runtime holds in /opt/kube-client", () => {
        // requirements-kube.txt pins the closure; tools/python-env.sh installs it --no-deps --target, as the runtime's
        // build does (pipelines/core/runtime.ts).
        // Every line an exact pin (parsePins throws naming any other).
        const file = path.join(STEP_LIBRARY, "requirements-kube.txt");
        const pins = [...parsePins(fs.readFileSync(file, "utf8"), file)].map(([name, p]) => `${name}==${p.version}`);
        assert.ok(pins.some((p) => p.startsWith("kubernetes==")));
        const installed = fs
            .readdirSync(kubeClientPath())
            .filter((d) => d.endsWith(".dist-info"))
            .map((d) => {
                const [name, version] = d.slice(0, -".dist-info".length).split("-");
                return `${canonicalName(name)}==${version}`;
            });
        assert.deepEqual(installed.sort(), pins.sort());
    });

    it("pass their unittest suite (validation, route, deploy objects, report, store, Pushgateway push, prune, clone)", () => {
        // The step library and the Kubernetes client on PYTHONPATH, as /opt/pipeline-lib and /opt/kube-client are
        // in the API-facing step pods (kube-client: tools/python-env.sh installs it as the runtime's build does).
        assertUnittestPasses(TASKS, [STEP_LIBRARY, kubeClientPath()]);
    });
});
