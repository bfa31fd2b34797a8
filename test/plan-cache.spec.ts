/**
 * The plan cache (test/plan-cache.ts) can never hand a spec a stale plan: its key hashes every file a plan reads, any
 * change to one of them changes the key, and a plan read back is the plan computed.
 */
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { program } from "../infra/program";
import { runProgram, type Plan } from "../tools/mock-runtime";
import { loadStack, PROJECT_ROOT } from "../tools/stack";
import { inputsUnchangedSince, overridesText, PLAN_INPUTS, PlanCache, planInputFiles, sourceKey } from "./plan-cache";

const fresh = (stack: string, overrides: Record<string, unknown> = {}) =>
    runProgram(program as unknown as () => Promise<Record<string, unknown>>, loadStack(stack, overrides));

/** A copy of the files a plan's key hashes, plus a spec, in a scratch project root. */
function scratchProject(): string {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "mlops-plan-inputs-"));
    for (const file of [...planInputFiles(), "components/aws/platform.spec.ts"]) {
        fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
        fs.copyFileSync(path.join(PROJECT_ROOT, file), path.join(root, file));
    }
    return root;
}

/** What test/plan-inputs-trace.ts prints: the files a real plan of every stack read, and each plan's SHA-256. */
interface PlanTrace {
    files: string[];
    planHashes: Record<string, string>;
}

const planHash = (plan: Plan) => createHash("sha256").update(JSON.stringify(plan)).digest("hex");

describe("plan cache", function () {
    this.timeout(120_000);
    // One process of its own plans every stack uncached, with every file it reads recorded.
    let trace: PlanTrace;
    before(() => {
        const out = execFileSync(
            process.execPath,
            ["--import", "tsx", path.join(PROJECT_ROOT, "test", "plan-inputs-trace.ts")],
            { cwd: PROJECT_ROOT, encoding: "utf8", env: { ...process.env, NODE_OPTIONS: "" } },
        );
        trace = JSON.parse(out.trim().split("\n").pop()!) as PlanTrace;
    });

    it("hashes every file that loading the program and planning every stack reads", () => {
        // Paths probed that do not exist (module resolution tries extensions) are no input.
        const touched = trace.files
            .map((f) => f.split(path.sep).join("/"))
            .filter((f) => f !== "test/plan-inputs-trace.ts" && fs.existsSync(path.join(PROJECT_ROOT, f)));
        const isDir = (f: string) => fs.statSync(path.join(PROJECT_ROOT, f)).isDirectory();
        const read = touched.filter((f) => !isDir(f));
        const listed = touched.filter(isDir);
        const hashed = new Set(planInputFiles());
        // The trace must see the program at all, or the checks below prove nothing.
        assert.ok(read.includes("infra/program.ts") && read.includes("Pulumi.dev.yaml"), read.join(", "));
        assert.ok(read.includes("pipelines/lib/requirements-lock.txt"), "the trace records files read at plan time");
        assert.deepEqual(
            read.filter((f) => !hashed.has(f)),
            [],
            "files a plan reads that the cache key does not hash",
        );
        // A folder the program lists: all its files are hashed, so a file added or removed there changes the key.
        // The root is listed for its stack files, which are hashed.
        for (const dir of listed.filter((d) => d !== ".")) {
            const inFolder = PLAN_INPUTS.folders.some((f) => dir === f || dir.startsWith(`${f}/`));
            const specs = fs.readdirSync(path.join(PROJECT_ROOT, dir)).filter((f) => f.endsWith(".spec.ts"));
            assert.ok(inFolder && specs.length === 0, `the plan lists ${dir}, whose listing the key does not hash`);
        }
    });

    describe("the key", () => {
        let root: string;
        before(() => {
            root = scratchProject();
        });
        after(() => fs.rmSync(root, { recursive: true, force: true }));

        it("changes with any input file's content, a new file in an input folder, and a stack file", () => {
            const before = sourceKey(root);
            assert.equal(sourceKey(root), before, "the same files give the same key");
            const changed: string[] = [];
            const edits: [string, () => void][] = [
                ["a component", () => fs.appendFileSync(path.join(root, "components/aws/network.ts"), " ")],
                ["a step script", () => fs.appendFileSync(path.join(root, "pipelines/tasks/deploy/deploy.py"), "#")],
                ["a new file", () => fs.writeFileSync(path.join(root, "monitoring/new-rule.yaml"), "x: 1\n")],
                ["a stack file", () => fs.appendFileSync(path.join(root, "Pulumi.dev.yaml"), "\n")],
                ["the lock file", () => fs.appendFileSync(path.join(root, "package-lock.json"), "\n")],
            ];
            let last = before;
            for (const [what, edit] of edits) {
                edit();
                const now = sourceKey(root);
                if (now === last) changed.push(what);
                last = now;
            }
            assert.deepEqual(changed, [], "edits that left the key as it was");
        });

        it("ignores specs, which the program never imports", () => {
            const before = sourceKey(root);
            fs.appendFileSync(path.join(root, "components/aws/platform.spec.ts"), "\n// edited\n");
            assert.equal(sourceKey(root), before);
        });

        it("covers the folders and files PLAN_INPUTS names", () => {
            const files = planInputFiles(root);
            for (const folder of PLAN_INPUTS.folders)
                assert.ok(
                    files.some((f) => f.startsWith(`${folder}/`)),
                    `no file of ${folder}/ is hashed`,
                );
            assert.ok(files.includes("Pulumi.prod.yaml") && files.includes("tools/mock-runtime.ts"));
            assert.ok(!files.some((f) => f.endsWith(".spec.ts")));
        });

        it("tells a file saved after a process started from the files it hashed", () => {
            const files = planInputFiles(root);
            const start = Date.now() + 1000;
            assert.equal(inputsUnchangedSince(start, files, root), true);
            const later = new Date(start + 5000);
            fs.utimesSync(path.join(root, "infra/program.ts"), later, later);
            assert.equal(inputsUnchangedSince(start, files, root), false, "a newer file");
            assert.equal(inputsUnchangedSince(start + 10_000, files.slice(1), root), false, "a file more");
        });
    });

    it("keeps overrides that remove a key apart from no overrides, and ignores key order", () => {
        assert.notEqual(overridesText({ models: undefined }), overridesText({}));
        assert.equal(overridesText({ a: 1, b: { d: 2, c: 3 } }), overridesText({ b: { c: 3, d: 2 }, a: 1 }));
        assert.notEqual(overridesText({ a: [1, 2] }), overridesText({ a: [2, 1] }));
    });

    describe("an entry", () => {
        let dir: string;
        before(() => {
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlops-plan-cache-"));
        });
        after(() => fs.rmSync(dir, { recursive: true, force: true }));

        it("read back in another process is the plan computed, and the compute step is not run again", async () => {
            let computed = 0;
            let expected: Plan | undefined;
            const writer = new PlanCache(dir);
            await writer.get("azure-example", {}, async () => {
                computed++;
                expected = await fresh("azure-example");
                return expected;
            });
            assert.equal(computed, 1);
            assert.ok(expected);
            // Planning is deterministic: the plan of this process is the one the trace's own process computed.
            assert.equal(planHash(expected), trace.planHashes["azure-example"], "the same plan in two processes");
            assert.ok(fs.existsSync(writer.entryFile("azure-example", {})), "the entry was written");
            // A second cache object has no memory of the first: what it returns comes from the file.
            const reader = new PlanCache(dir);
            const read: Plan = await reader.get("azure-example", {}, () => {
                throw new Error("computed although the entry exists");
            });
            assert.deepStrictEqual(read, expected);
        });

        it("is its own copy for every reader", async () => {
            // What is copied is the cache's business, not the program's: a small plan shows it as well as a real one.
            const resource = {
                urn: "urn:pulumi:example::mlops-testbed::test:index:Thing::thing",
                type: "test:index:Thing",
            };
            const small = { project: "mlops-testbed", stack: "example", resources: [resource] } as unknown as Plan;
            const cache = new PlanCache(dir);
            const first = await cache.get("example", {}, async () => small);
            first.resources.length = 0;
            const second = await cache.get("example", {}, () => {
                throw new Error("computed although this process planned it before");
            });
            assert.deepStrictEqual(second.resources, [resource]);
        });

        it("is computed once for readers asking at the same time, and not kept when computing it failed", async () => {
            const small = { project: "mlops-testbed", stack: "together", resources: [] } as unknown as Plan;
            const cache = new PlanCache(dir);
            let computed = 0;
            const compute = async () => {
                computed++;
                await new Promise((r) => setTimeout(r, 10));
                return small;
            };
            const plans = await Promise.all([cache.get("together", {}, compute), cache.get("together", {}, compute)]);
            assert.equal(computed, 1);
            assert.deepStrictEqual(plans[0], small);
            assert.deepStrictEqual(plans[1], small);
            assert.notEqual(plans[0], plans[1], "each reader its own copy");

            let attempts = 0;
            const failing = async (): Promise<Plan> => {
                attempts++;
                throw new Error(`attempt ${attempts}`);
            };
            await assert.rejects(cache.get("failing", {}, failing), /attempt 1/);
            await assert.rejects(cache.get("failing", {}, failing), /attempt 2/);
            assert.equal(fs.existsSync(cache.entryFile("failing", {})), false, "nothing written for a failed plan");
        });

        it("differs per stack and per overrides", () => {
            const cache = new PlanCache(dir);
            const files = [
                cache.entryFile("dev", {}),
                cache.entryFile("prod", {}),
                cache.entryFile("dev", { models: [] }),
                cache.entryFile("dev", { models: undefined }),
            ];
            assert.equal(new Set(files).size, files.length);
        });
    });
});
