/**
 * One measured plan, run in its own process by tools/bench/index.ts so its time and peak memory are its own:
 *   node --import tsx tools/bench/plan-child.ts <stack> [<model versions>|-] [--modules]
 * Prints one JSON line (PlanChildResult) on stdout. With --modules it also lists the files under node_modules
 * that the program's own modules (everything outside tools/ and test/) import directly: what the SDK-load
 * baseline loads.
 */
import * as path from "node:path";
import { runProgram } from "../mock-runtime";
import { loadStack, PROJECT_ROOT } from "../stack";
import { modelVersionsOverride } from "./models";
import { cpuAndMemory } from "./usage";

export interface PlanChildResult {
    stack: string;
    modelVersions: number | null;
    resources: number;
    customResources: number;
    /** Time to import the program's modules (infra/program and everything it imports), ms. */
    importMs: number;
    /** Time to run the program under the mock runtime, ms. */
    runMs: number;
    /** CPU time (user + system) of the whole process, ms: steadier than wall time on a busy machine. */
    cpuMs: number;
    /** Peak resident set size of this process, KB (process.resourceUsage().maxRSS). */
    maxRssKB: number;
    modules?: string[];
}

/** Absolute paths of the files under node_modules that the program's own files require directly. */
export function programSdkModules(): string[] {
    const own = (f: string) =>
        f.startsWith(PROJECT_ROOT + path.sep) &&
        !f.includes(`${path.sep}node_modules${path.sep}`) &&
        !["tools", "test"].includes(path.relative(PROJECT_ROOT, f).split(path.sep)[0]);
    const out = new Set<string>();
    for (const m of Object.values(require.cache)) {
        if (!m || !own(m.filename)) continue;
        for (const c of m.children) if (c.filename.includes(`${path.sep}node_modules${path.sep}`)) out.add(c.filename);
    }
    return [...out].sort();
}

async function main(): Promise<void> {
    const [stack, n, flag] = process.argv.slice(2);
    if (!stack) throw new Error("usage: plan-child.ts <stack> [<model versions>|-] [--modules]");
    const modelVersions = n === undefined || n === "-" ? null : Number(n);
    const t0 = performance.now();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { program } = require("../../infra/program") as typeof import("../../infra/program");
    const t1 = performance.now();
    const overrides = modelVersions === null ? {} : { models: modelVersionsOverride(modelVersions) };
    const plan = await runProgram(
        program as unknown as () => Promise<Record<string, unknown>>,
        loadStack(stack, overrides),
    );
    const t2 = performance.now();
    const result: PlanChildResult = {
        stack,
        modelVersions,
        resources: plan.resources.length,
        customResources: plan.resources.filter((r) => r.custom).length,
        importMs: t1 - t0,
        runMs: t2 - t1,
        ...cpuAndMemory(),
        ...(flag === "--modules" ? { modules: programSdkModules() } : {}),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
});
