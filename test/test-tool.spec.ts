/**
 * tools/test.ts (`npm test`): a check with declared inputs is not run again while they are those of its last clean
 * run; the inputs Prettier and the Python and shell linters declare cover every file those read, and Prettier's cache
 * is kept apart per set of Prettier and plugin versions; `--only` picks checks by name.
 */
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CleanRuns } from "../tools/cache";
import { UsageError } from "../tools/cli";
import { PROJECT_ROOT } from "../tools/stack";
import {
    BACKGROUND_NICENESS,
    CHECKS,
    type Check,
    type Outcome,
    prettierCacheLocation,
    prettierInputs,
    prettierVersions,
    pythonLintInputs,
    run,
    runUnlessClean,
    selectChecks,
    shellLintInputs,
} from "../tools/test";

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
                niceness: 0,
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

    describe("priority: mocha, which ends last, gets the CPU first", () => {
        /** A check that prints the nice value of its own process and of a process it starts (field 19 of stat). */
        const niceOf = async (niceness: number) => {
            const outcome = await run({
                name: "nice",
                command: "bash",
                args: ["-c", "read -ra f < /proc/$$/stat; echo ${f[18]}; cut -d' ' -f19 /proc/self/stat"],
                stream: false,
                niceness,
            });
            assert.equal(outcome.code, 0, outcome.output);
            return outcome.output.trim().split("\n").map(Number);
        };
        const own = Number(fs.readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ")[16]);

        it("starts a background check and what it starts at a lower priority, mocha at the run's own", async () => {
            assert.deepEqual(await niceOf(BACKGROUND_NICENESS), [
                Math.min(own + BACKGROUND_NICENESS, 19),
                Math.min(own + BACKGROUND_NICENESS, 19),
            ]);
            assert.deepEqual(await niceOf(0), [own, own]);
        });

        it("lowers every check's priority but mocha's", () => {
            assert.ok(BACKGROUND_NICENESS > 0);
            assert.deepEqual(
                CHECKS.map((c) => [c.name, c.niceness]),
                CHECKS.map((c) => [c.name, c.name === "mocha" ? 0 : BACKGROUND_NICENESS]),
            );
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

    it("Prettier's inputs cover every file of the clone it may check, its config and ignore files", () => {
        const inputs = new Set(prettierInputs().files);
        const listed = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], {
            cwd: PROJECT_ROOT,
            encoding: "utf8",
        })
            .split("\n")
            .filter((f) => f && fs.existsSync(path.join(PROJECT_ROOT, f)));
        assert.ok(listed.length > 300, "the repository's files are listed");
        assert.deepEqual(
            listed.filter((f) => !inputs.has(f)),
            [],
        );
        for (const f of [".prettierrc.json", ".prettierignore", ".gitignore", "package-lock.json"])
            assert.ok(inputs.has(f), f);
        // The Oxc plugin, the parser it loads and this platform's native binding, beside Prettier itself.
        assert.match(prettierInputs().extra, /^prettier@3\./m);
        assert.match(prettierInputs().extra, /^@prettier\/plugin-oxc@/m);
        assert.match(prettierInputs().extra, /^oxc-parser@/m);
        assert.match(prettierInputs().extra, /^@oxc-parser\/binding-[\w-]+@/m);
        const prettier = CHECKS.find((c) => c.name === "prettier");
        assert.ok(prettier);
        assert.equal(prettier.inputs, prettierInputs);
        assert.ok(prettier.args.includes(prettierCacheLocation()));
    });

    describe("Prettier's versions, and so its cache's location", () => {
        let root: string;
        const write = (rel: string, json: unknown) => {
            fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
            fs.writeFileSync(path.join(root, rel), JSON.stringify(json));
        };
        beforeEach(() => {
            root = fs.mkdtempSync(path.join(os.tmpdir(), "mlops-test-prettier-"));
            write(".prettierrc.json", { plugins: ["plugin"], overrides: [{ options: { plugins: ["other"] } }] });
            write("node_modules/prettier/package.json", { version: "3.0.0" });
            write("node_modules/plugin/package.json", {
                version: "1.0.0",
                dependencies: { parser: "2.0.0" },
                optionalDependencies: { "binding-here": "2.0.0", "binding-elsewhere": "2.0.0" },
            });
            write("node_modules/parser/package.json", { version: "2.0.0" });
            write("node_modules/binding-here/package.json", { version: "2.0.0" });
            write("node_modules/other/package.json", { version: "5.0.0" });
        });
        afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

        it("name Prettier, each plugin of the config and overrides, and what each loads that is installed", () => {
            assert.equal(
                prettierVersions(root),
                ["binding-here@2.0.0", "other@5.0.0", "parser@2.0.0", "plugin@1.0.0", "prettier@3.0.0"].join("\n"),
            );
        });

        it("change the location when a plugin, its dependency or its binding changes version", () => {
            const locations = new Set([prettierCacheLocation(root, "/cache")]);
            for (const [rel, version] of [
                ["node_modules/plugin/package.json", "1.0.1"],
                ["node_modules/parser/package.json", "2.0.1"],
                ["node_modules/binding-here/package.json", "2.0.1"],
                ["node_modules/other/package.json", "5.0.1"],
                ["node_modules/prettier/package.json", "3.0.1"],
            ]) {
                const before = JSON.parse(fs.readFileSync(path.join(root, rel), "utf8")) as object;
                write(rel, { ...before, version });
                locations.add(prettierCacheLocation(root, "/cache"));
            }
            assert.equal(locations.size, 6);
            for (const l of locations) assert.match(l, /^\/cache\/prettier-[0-9a-f]{16}$/);
        });

        it("read a dependency where Node would load it from: the plugin's own node_modules first", () => {
            write("node_modules/plugin/node_modules/parser/package.json", { version: "9.0.0" });
            assert.match(prettierVersions(root), /^parser@9\.0\.0$/m);
            assert.doesNotMatch(prettierVersions(root), /^parser@2/m);
        });

        it("name a plugin that is not installed, so that installing it changes the key", () => {
            fs.rmSync(path.join(root, "node_modules", "other"), { recursive: true });
            assert.match(prettierVersions(root), /^other@missing$/m);
        });
    });

    it("--only runs the checks it names, and refuses an unknown one", () => {
        assert.deepEqual(
            selectChecks(["prettier"]).map((c) => c.name),
            ["prettier"],
        );
        assert.equal(selectChecks(undefined), CHECKS);
        assert.equal(selectChecks([]), CHECKS);
        assert.throws(() => selectChecks(["prettier", "pretier"]), UsageError);
    });
});
