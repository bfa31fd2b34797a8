import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";

/**
 * Runs the unittest suite in `<dir>/tests` with Debian's python3 (standard library only, as the consumer scripts run
 * in the plain Python image) and fails with its output unless it ran at least one test and all passed.
 */
export function assertPythonSuitePasses(dir: string, python = "/usr/bin/python3"): void {
    const run = spawnSync(python, ["-m", "unittest", "discover", "-s", "tests", "-t", "."], {
        cwd: dir,
        encoding: "utf8",
        timeout: 120_000,
        env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" },
    });
    assert.ifError(run.error);
    assert.equal(run.status, 0, `${run.stderr}\n${run.stdout}`);
    assert.match(run.stderr, /^Ran [1-9]\d* tests?/m);
}
