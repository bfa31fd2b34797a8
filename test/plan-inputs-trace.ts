/**
 * Run by test/plan-cache.spec.ts in a process of its own: records every file under the project that loading the
 * program and planning every stack reads (fs calls and the modules loaded), and prints them as one JSON line
 * (`files`: paths relative to the project root, node_modules left out, the key hashes package-lock.json for those),
 * with the SHA-256 of each stack's plan as JSON (`planHashes`: the spec compares them with plans of its own process).
 *   node --import tsx test/plan-inputs-trace.ts
 */
import { createHash } from "node:crypto";
import * as path from "node:path";

// The module object itself (an ES namespace import would be a frozen copy): what every `fs.x(...)` call reads.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fs = require("node:fs") as typeof import("node:fs");

const ROOT = path.resolve(__dirname, "..");
const seen = new Set<string>();
const note = (p: unknown) => {
    if (typeof p !== "string" && !(p instanceof URL)) return;
    const abs = path.resolve(p instanceof URL ? p.pathname : p);
    if (abs.startsWith(ROOT + path.sep)) seen.add(path.relative(ROOT, abs));
};
const fsCalls = [
    "readFileSync",
    "readdirSync",
    "existsSync",
    "statSync",
    "lstatSync",
    "openSync",
    "accessSync",
] as const;
for (const name of fsCalls) {
    const original = fs[name] as (...args: unknown[]) => unknown;
    (fs as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
        note(args[0]);
        return original.apply(fs, args);
    };
}

async function main(): Promise<void> {
    // Loaded after the fs calls are wrapped: module-level reads (scripts, the step library) are recorded too.
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { program } = require("../infra/program") as typeof import("../infra/program");
    const { runProgram } = require("../tools/mock-runtime") as typeof import("../tools/mock-runtime");
    const { listStacks, loadStack } = require("../tools/stack") as typeof import("../tools/stack");
    /* eslint-enable @typescript-eslint/no-require-imports */
    const planHashes: Record<string, string> = {};
    for (const stack of listStacks()) {
        const plan = await runProgram(program as unknown as () => Promise<Record<string, unknown>>, loadStack(stack));
        // Hashed here as the spec hashes its plan: a helper imported from test/ would be recorded as a file read.
        planHashes[stack] = createHash("sha256").update(JSON.stringify(plan)).digest("hex");
    }
    for (const file of Object.keys(require.cache)) note(file);
    const files = [...seen].filter((f) => !f.split(path.sep).includes("node_modules")).sort();
    process.stdout.write(`${JSON.stringify({ files, planHashes })}\n`);
}

main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
});
