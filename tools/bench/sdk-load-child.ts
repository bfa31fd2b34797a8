/**
 * The baseline every plan time is compared with: a process that only loads the SDK modules the program
 * imports (the files tools/bench/plan-child.ts lists with --modules), started the same way as a plan.
 *   node --import tsx tools/bench/sdk-load-child.ts <absolute module file>...
 * Prints one JSON line: { loadMs, cpuMs, maxRssKB, modules }.
 */
import { cpuAndMemory } from "./usage";

const files = process.argv.slice(2);
if (files.length === 0) {
    process.stderr.write("usage: sdk-load-child.ts <module file>...\n");
    process.exit(1);
}
const t0 = performance.now();
// eslint-disable-next-line @typescript-eslint/no-require-imports
for (const f of files) require(f);
const loadMs = performance.now() - t0;
process.stdout.write(`${JSON.stringify({ loadMs, ...cpuAndMemory(), modules: files.length })}\n`);
