/**
 * tools/test.ts (`npm test`): a check with declared inputs is not run again while they are those of its last clean
 * run, and the inputs the Python and shell linters declare cover every file those linters read.
 */
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CleanRuns } from "../tools/cache";
import { PROJECT_ROOT } from "../tools/stack";
import { type Check, type Outcome, pythonLintInputs, runUnlessClean, shellLintInputs } from "../tools/test";

describe("npm test's checks", function () {
    this.timeout(60_000);

    describe("a clean run is not repeated while its inputs are unchanged", () => {
        let dir: string;
        let runs: CleanRuns;
        let started: number;
        const check = (code: number, during?: () => void): [Check, (c: Check) => Promise<Outcome>] => [
            {
                name: "lint",
                command: "true",
                args: [],
                stream: false,
                inputs: () => ({ files: ["a.py", "b.toml"], extra: "v1" }),
            },
            async (c) => {
                started += 1;
                during?.();
                return { name: c.name, code, seconds: 1, output: "ran\n" };
            },
        ];
        const go = (code: number, during?: () => void) => {
            const [c, start] = check(code, during);
            return runUnlessClean(c, runs, start, dir);
        };
        beforeEach(() => {
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlops-test-tool-"));
            fs.writeFileSync(path.join(dir, "a.py"), "x = 1\n");
            fs.writeFileSync(path.join(dir, "b.toml"), "[tool]\n");
            runs = new CleanRuns(path.join(dir, "cache", "clean-runs.json"));
            started = 0;
        });
        afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

        it("runs a check once, then reports it clean without running it", async () => {
            const first = await go(0);
            const second = await go(0);
            assert.equal(started, 1);
            assert.equal(first.output, "ran\n");
            assert.equal(second.code, 0);
            assert.match(second.output, /nothing it reads changed since its last clean run/);
        });

        it("runs it again when one input's content changes", async () => {
            await go(0);
            fs.writeFileSync(path.join(dir, "b.toml"), "[tool.other]\n");
            await go(0);
            assert.equal(started, 2);
        });

        it("never records a failed run", async () => {
            const failed = await go(1);
            await go(1);
            assert.equal(failed.code, 1);
            assert.equal(started, 2);
            assert.deepEqual(runs.read(), {});
        });

        it("does not record a clean run whose inputs changed while it ran", async () => {
            // Saved while it ran, then put back: the run may have read either, so its inputs' key is not recorded.
            await go(0, () => fs.writeFileSync(path.join(dir, "a.py"), "x = 2\n"));
            fs.writeFileSync(path.join(dir, "a.py"), "x = 1\n");
            await go(0);
            assert.equal(started, 2);
        });

        it("keeps the other checks' keys when it records one", async () => {
            runs.record({ typecheck: "k1" });
            await go(0);
            assert.equal(runs.read().typecheck, "k1");
            assert.ok(runs.read().lint);
        });

        it("always runs a check that declares no inputs", async () => {
            const [c, start] = check(0);
            const { inputs: _inputs, ...bare } = c;
            await runUnlessClean(bare, runs, start, dir);
            await runUnlessClean(bare, runs, start, dir);
            assert.equal(started, 2);
        });
    });

    it("the Python linters' inputs cover every Python file, config and pin file they read", () => {
        const inputs = new Set(pythonLintInputs().files);
        const tracked = execFileSync("git", ["ls-files", "*.py", "*.pyi", "*.toml", "*requirements*.txt"], {
            cwd: PROJECT_ROOT,
            encoding: "utf8",
        })
            .split("\n")
            .filter(Boolean);
        assert.ok(tracked.length > 30, "the repository's Python files are listed");
        assert.deepEqual(
            tracked.filter((f) => !inputs.has(f)),
            [],
        );
        for (const f of ["pyproject.toml", "ruff.toml", "tools/python-lint.sh", "tools/python-env.sh"])
            assert.ok(inputs.has(f), f);
        assert.match(pythonLintInputs().extra, /python-[0-9a-f]{16}$/);
    });

    it("shellcheck's inputs cover every script shell-lint.sh checks and the files they source", () => {
        const inputs = new Set(shellLintInputs().files);
        const linted = execFileSync("git", ["ls-files", "*.sh", ".ci/run"], { cwd: PROJECT_ROOT, encoding: "utf8" })
            .split("\n")
            .filter(Boolean);
        assert.ok(linted.length > 10, "the repository's shell scripts are listed");
        assert.deepEqual(
            linted.filter((f) => !inputs.has(f)),
            [],
        );
        // --external-sources follows `. file`: every sourced file must be an input too.
        const sourced = linted.flatMap((f) =>
            [
                ...fs
                    .readFileSync(path.join(PROJECT_ROOT, f), "utf8")
                    .matchAll(/^\s*(?:\.|source) "\$here\/([^"]+)"/gm),
            ].map((m) => path.posix.join(path.posix.dirname(f), m[1])),
        );
        assert.ok(sourced.length > 0);
        assert.deepEqual(
            sourced.filter((f) => !inputs.has(f)),
            [],
        );
        assert.match(shellLintInputs().extra, /ShellCheck/);
    });
});
