import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { STEP_LIBRARY, assertUnittestPasses, runPython } from "../../test/python";

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

    it("pass their unittest suite (validation, route, deploy objects, report, store, Pushgateway push, prune, clone)", () => {
        // The step library on PYTHONPATH, as /opt/pipeline-lib is in the step pods.
        assertUnittestPasses(TASKS, [STEP_LIBRARY]);
    });
});
