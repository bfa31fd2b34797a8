/**
 * `npm run mutation`: StrykerJS over the modules whose tests are fast and pure (stryker.config.mjs, the focused specs
 * of .mocharc.mutation.json), then the score per module (tools/mutation/scores.ts) printed and written beside
 * Stryker's own reports in out/mutation/ (gitignored). Not part of `npm test`: it takes many minutes.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseOptions, runAsScript, UsageError } from "./cli";
import { accepted, formatScores, moduleScores, staticIgnored, survivors, type MutationReport } from "./mutation/scores";
import { PROJECT_ROOT } from "./stack";

export const USAGE = `Usage: npm run mutation -- [options]

Mutation testing with StrykerJS: mutates the config schema and validation, the promotion decision, subnet
planning, the NetworkPolicy and RBAC builders, the metric contract, the study report's queries and rendering,
the benchmark's cost and critical-path estimates and the local study's modules (its gateway, kubelet, traffic
ledger, CEL, scalability runs, dashboards' queries), runs the focused specs of .mocharc.mutation.json against
each mutant, and prints the score per module (killed over killed, survived and not covered) with every
survivor. Writes out/mutation/ (mutation.json, mutation.html, scores.md).

Options:
  --concurrency <n>   Test processes Stryker runs at once (default 2)
  --ignore-static     Skip static mutants (module-level code such as the config schemas' tables): each needs a
                      fresh process running every focused spec, so they are most of the time (over an hour on 2
                      shared cores); they are then counted as ignored, not in the scores
  --report-only       Run nothing: print the scores of the last report
  --threshold <pct>   The score each module should reach (default 85); below it, the module is marked
  -h, --help          Show this help

Exit codes: 0 done (scores are printed, not enforced), 1 Stryker failed or no report, 2 bad arguments.`;

const REPORT_DIR = path.join(PROJECT_ROOT, "out", "mutation");

function main(argv: readonly string[]): number {
    const { values } = parseOptions(argv, {
        concurrency: { type: "string", default: "2" },
        "report-only": { type: "boolean", default: false },
        "ignore-static": { type: "boolean", default: false },
        threshold: { type: "string", default: "85" },
    });
    const concurrency = Number(values.concurrency);
    const threshold = Number(values.threshold);
    if (!Number.isInteger(concurrency) || concurrency < 1)
        throw new UsageError("--concurrency must be a whole number ≥ 1");
    if (!(threshold >= 0 && threshold <= 100)) throw new UsageError("--threshold must be a percentage (0 to 100)");

    let wall = "";
    if (!values["report-only"]) {
        const started = Date.now();
        const stryker = path.join(PROJECT_ROOT, "node_modules", "@stryker-mutator", "core", "bin", "stryker.js");
        const args = [
            "run",
            "--concurrency",
            String(concurrency),
            ...(values["ignore-static"] ? ["--ignoreStatic"] : []),
        ];
        const run = spawnSync(process.execPath, [stryker, ...args], {
            cwd: PROJECT_ROOT,
            stdio: "inherit",
            // The focused specs and the sources are TypeScript: every test process loads tsx.
            env: { ...process.env, NODE_OPTIONS: "--import tsx" },
        });
        if (run.status !== 0) {
            process.stderr.write(`mutation: stryker exited with ${run.status ?? run.signal}\n`);
            return 1;
        }
        wall = `Wall time: ${((Date.now() - started) / 60_000).toFixed(1)} min at concurrency ${concurrency}${values["ignore-static"] ? ", static mutants ignored" : ""}.\n`;
    }
    const file = path.join(REPORT_DIR, "mutation.json");
    if (!fs.existsSync(file)) {
        process.stderr.write(
            `mutation: no report at ${path.relative(PROJECT_ROOT, file)}; run npm run mutation first\n`,
        );
        return 1;
    }
    const report = JSON.parse(fs.readFileSync(file, "utf8")) as MutationReport;
    const kept = accepted(report);
    const skipped = staticIgnored(report);
    const text = [
        formatScores(moduleScores(report), survivors(report), threshold),
        kept.length === 0
            ? ""
            : `Accepted (ignored in the source, with the reason):\n${kept.map((a) => `- ${a.where} ${a.mutator}: ${a.reason}`).join("\n")}\n`,
        skipped === 0 ? "" : `Static mutants ignored (--ignore-static), not in the scores: ${skipped}.\n`,
        wall,
    ].join("\n");
    process.stdout.write(text);
    fs.writeFileSync(path.join(REPORT_DIR, "scores.md"), text);
    return 0;
}

runAsScript(module, USAGE, main);
