/**
 * Every tool answers --help with its usage and exits 0 before doing any work, and refuses an unknown flag with exit
 * code 2 and the usage. Each tool runs as its npm script runs it, a process of its own with tsx's loader (`node
 * --import tsx`, the loader the tsx command starts Node with, without the tsx command's own process).
 */
import * as assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { PROJECT_ROOT } from "../tools/stack";

/** Each npm script of a tool and the file it runs. */
const SCRIPTS = {
    test: "tools/test.ts",
    plan: "tools/plan.ts",
    bench: "tools/bench/index.ts",
    report: "tools/report.ts",
    pipelinerun: "tools/pipelinerun.ts",
    "record-manual-delivery": "tools/record-manual-delivery.ts",
    policy: "tools/policy.ts",
    facts: "tools/facts.ts",
    mutation: "tools/mutation.ts",
    "lock:python": "tools/python-lock.ts",
    "engine:build": "tools/engine/build.ts",
    "test:engine": "tools/engine/test-engine.ts",
    "preview:local": "tools/engine/preview-local.ts",
    "study:local": "tools/study/index.ts",
} as const;
const TOOLS = Object.keys(SCRIPTS) as (keyof typeof SCRIPTS)[];

interface Run {
    code: number | null;
    stdout: string;
    stderr: string;
}

/** tsx's loader by URL: the tools run in a scratch directory, from which the bare name would not resolve. */
const TSX_LOADER = pathToFileURL(require.resolve("tsx")).href;

/** Runs a tool's file with tsx's loader, as `npm run <tool>` does. */
function runTool(tool: keyof typeof SCRIPTS, args: string[], cwd: string): Promise<Run> {
    return new Promise((resolve, reject) => {
        const child = spawn(
            process.execPath,
            ["--import", TSX_LOADER, path.join(PROJECT_ROOT, SCRIPTS[tool]), ...args],
            {
                cwd,
                env: { ...process.env, NODE_OPTIONS: "" },
            },
        );
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
}

describe("every tool answers --help and refuses unknown flags", function () {
    this.timeout(240_000);
    let scratch: string;
    const help = new Map<string, Run>();
    const unknown = new Map<string, Run>();
    let resultsBefore: string;

    before(async () => {
        scratch = fs.mkdtempSync(path.join(os.tmpdir(), "mlops-help-"));
        resultsBefore = fs.readFileSync(path.join(PROJECT_ROOT, "bench", "results.json"), "utf8");
        // Two at a time: each loads the Pulumi SDK.
        for (let i = 0; i < TOOLS.length; i += 2) {
            await Promise.all(
                TOOLS.slice(i, i + 2).flatMap((t) => [
                    runTool(t, ["--help", "--out", path.join(scratch, "out")], scratch).then((r) => help.set(t, r)),
                    runTool(t, ["--no-such-flag"], scratch).then((r) => unknown.set(t, r)),
                ]),
            );
        }
    });
    after(() => fs.rmSync(scratch, { recursive: true, force: true }));

    for (const tool of TOOLS) {
        it(`${tool} --help prints its usage and exits 0 without doing work`, () => {
            const r = help.get(tool)!;
            assert.equal(r.code, 0, r.stderr);
            assert.match(r.stdout, new RegExp(`^Usage: npm run ${tool}\\b`));
            assert.match(r.stdout, /--help/);
            assert.equal(r.stderr, "");
        });

        it(`${tool} refuses an unknown flag with exit code 2 and the usage`, () => {
            const r = unknown.get(tool)!;
            assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
            assert.match(r.stderr, /no-such-flag/);
            assert.match(r.stderr, new RegExp(`Usage: npm run ${tool}\\b`));
            assert.equal(r.stdout, "");
        });
    }

    it("did no work: no plan written, the benchmark results untouched", () => {
        assert.equal(fs.existsSync(path.join(scratch, "out")), false);
        assert.deepEqual(fs.readdirSync(scratch), []);
        assert.equal(fs.readFileSync(path.join(PROJECT_ROOT, "bench", "results.json"), "utf8"), resultsBefore);
    });
});

describe("a tool keeps Node's compiled code in the clone's compile cache", function () {
    this.timeout(60_000);
    /** What a tool's main sees of the compile cache, started with `env`. */
    const seen = (env: NodeJS.ProcessEnv) => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlops-compile-cache-"));
        try {
            const script = path.join(dir, "tool.ts");
            fs.writeFileSync(
                script,
                [
                    'import nodeModule from "node:module";',
                    `import { runAsScript } from ${JSON.stringify(path.join(PROJECT_ROOT, "tools", "cli"))};`,
                    'runAsScript(module, "Usage: tool", () => {',
                    "    const seen = { dir: nodeModule.getCompileCacheDir(), env: process.env.NODE_COMPILE_CACHE };",
                    "    process.stdout.write(JSON.stringify(seen));",
                    "    return 0;",
                    "});",
                    "",
                ].join("\n"),
            );
            const out = execFileSync(process.execPath, ["--import", TSX_LOADER, script], {
                cwd: dir,
                encoding: "utf8",
                env: { ...env, NODE_OPTIONS: "" },
            });
            return JSON.parse(out) as { dir?: string; env?: string };
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    };

    it("enables it for itself and the processes it starts when NODE_COMPILE_CACHE is not set", () => {
        const { NODE_COMPILE_CACHE: _unset, ...env } = process.env;
        const expected = path.join(PROJECT_ROOT, "node_modules", ".cache", "mlops-testbed", "node-compile");
        const r = seen(env);
        assert.equal(r.env, expected, "the processes it starts inherit it");
        // Node keeps each version's entries in a folder of their own under the directory.
        assert.ok(r.dir?.startsWith(expected + path.sep), r.dir);
    });

    it("leaves a NODE_COMPILE_CACHE that is set", () => {
        const own = fs.mkdtempSync(path.join(os.tmpdir(), "mlops-own-cache-"));
        try {
            const r = seen({ ...process.env, NODE_COMPILE_CACHE: own });
            assert.equal(r.env, own);
            assert.ok(r.dir?.startsWith(own + path.sep), r.dir);
        } finally {
            fs.rmSync(own, { recursive: true, force: true });
        }
    });
});
