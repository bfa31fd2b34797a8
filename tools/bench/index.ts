/**
 * `npm run bench [-- --repeat N]`: measures the program and prints three tables, then writes
 * bench/results.json (every field is documented in docs/benchmarks.md).
 *
 * 1. Plan speed and scaling: each offline plan (dev, prod, and dev with 0/1/10/50/100 model versions) runs in
 *    its own process, as does a baseline that only loads the SDK modules the program imports; wall time and
 *    peak RSS of each, as medians over --repeat rounds, and their ratios to the baseline.
 * 2. Deployment critical path of every stack from the plan's dependency graph and tools/bench/estimates.ts.
 * 3. Monthly cost of every stack, idle and with GPU nodes busy, from tools/bench/prices.ts.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CLOUDS } from "../../contract/clouds";
import type { CriticalPathReport } from "./critical-path";
import type { MonthlyCost } from "./cost";
import type { PlanChildResult } from "./plan-child";
import { ASSUMED_STORAGE_GB, HOURS_PER_MONTH, PRICES_AS_OF, SPOT_PRICE_FACTOR } from "./prices";
import { AZURE_PRICES_AS_OF, AZURE_SPOT_PRICE_FACTOR } from "./azure-prices";
import type { ClusterRequests } from "./requests";
import { listStacks, loadStack, PROJECT_ROOT } from "../stack";
import { parseOptions, runAsScript, UsageError } from "../cli";

const USAGE = `Usage: npm run bench -- [--repeat <n>]

Measures the program and prints three tables, then writes bench/results.json (docs/benchmarks.md): plan speed and
scaling (each plan in its own process, as ratios to loading the SDK), the estimated \`pulumi up\` critical path of
every stack, and the monthly cost of every AWS stack. Takes minutes; run it on an otherwise idle machine.

Options:
  --repeat <n>   Rounds per measurement, medians reported (default: 3)
  -h, --help     Show this help

Exit codes: 0 measured, 2 bad arguments, 1 anything else.`;

/** Model-version counts of the scaling runs; 0 is the baseline the per-version figure subtracts. */
export const MODEL_VERSION_COUNTS = [0, 1, 10, 50, 100] as const;
const SCALING_STACK = "dev";

interface ChildRun {
    wallMs: number;
    cpuMs: number;
    maxRssKB: number;
    out: Record<string, unknown>;
}

function runChild(script: string, args: string[]): ChildRun {
    const t0 = process.hrtime.bigint();
    const res = spawnSync(process.execPath, ["--import", "tsx", path.join(__dirname, script), ...args], {
        cwd: PROJECT_ROOT,
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, NODE_OPTIONS: "" },
    });
    const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
    if (res.status !== 0) throw new Error(`${script} ${args.join(" ")} failed (exit ${res.status}):\n${res.stderr}`);
    const line = res.stdout.trim().split("\n").pop() ?? "";
    const out = JSON.parse(line) as Record<string, unknown>;
    return { wallMs, cpuMs: out["cpuMs"] as number, maxRssKB: out["maxRssKB"] as number, out };
}

const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
const mb = (kb: number) => round(kb / 1024, 1);

interface PlanCase {
    label: string;
    stack: string;
    modelVersions: number | null;
}

function planCases(): PlanCase[] {
    return [
        { label: "dev", stack: "dev", modelVersions: null },
        { label: "prod", stack: "prod", modelVersions: null },
        ...MODEL_VERSION_COUNTS.map((n) => ({
            label: `${SCALING_STACK} + ${n} model versions`,
            stack: SCALING_STACK,
            modelVersions: n,
        })),
    ];
}

function measurePlanSpeed(repeat: number) {
    const discovery = runChild("plan-child.ts", [SCALING_STACK, "-", "--modules"]);
    const modules = (discovery.out as unknown as PlanChildResult).modules ?? [];
    if (modules.length === 0) throw new Error("found no SDK modules imported by the program");
    const cases = planCases();
    const sdkRuns: ChildRun[] = [];
    const planRuns: ChildRun[][] = cases.map(() => []);
    for (let round_ = 0; round_ < repeat; round_++) {
        // Interleaved rounds, so a slow moment of the machine spreads over every case instead of hitting one.
        sdkRuns.push(runChild("sdk-load-child.ts", modules));
        cases.forEach((c, i) =>
            planRuns[i].push(
                runChild("plan-child.ts", [c.stack, c.modelVersions === null ? "-" : String(c.modelVersions)]),
            ),
        );
        process.stderr.write(`bench: plan speed round ${round_ + 1}/${repeat} done\n`);
    }
    const sdkWall = median(sdkRuns.map((r) => r.wallMs));
    const sdkCpu = median(sdkRuns.map((r) => r.cpuMs));
    const sdkRss = median(sdkRuns.map((r) => r.maxRssKB));
    const runs = cases.map((c, i) => {
        const rs = planRuns[i];
        const first = rs[0].out as unknown as PlanChildResult;
        const wallMs = median(rs.map((r) => r.wallMs));
        const cpuMs = median(rs.map((r) => r.cpuMs));
        const maxRssKB = median(rs.map((r) => r.maxRssKB));
        return {
            label: c.label,
            stack: c.stack,
            modelVersions: c.modelVersions,
            resources: first.resources,
            customResources: first.customResources,
            wallMs: round(wallMs),
            wallMsRuns: rs.map((r) => round(r.wallMs)),
            cpuMs: round(cpuMs),
            importMs: round(median(rs.map((r) => (r.out as unknown as PlanChildResult).importMs))),
            runMs: round(median(rs.map((r) => (r.out as unknown as PlanChildResult).runMs))),
            maxRssMB: mb(maxRssKB),
            wallRatio: round(wallMs / sdkWall, 2),
            cpuRatio: round(cpuMs / sdkCpu, 2),
            rssRatio: round(maxRssKB / sdkRss, 2),
        };
    });
    const baseline = runs.find((r) => r.modelVersions === 0)!;
    const perVersion = runs
        .filter((r) => r.modelVersions !== null && r.modelVersions > 0)
        .map((r) => ({
            modelVersions: r.modelVersions!,
            resourcesPerVersion: round((r.resources - baseline.resources) / r.modelVersions!, 3),
        }));
    return {
        sdkLoad: {
            wallMs: round(sdkWall),
            wallMsRuns: sdkRuns.map((r) => round(r.wallMs)),
            cpuMs: round(sdkCpu),
            loadMs: round(median(sdkRuns.map((r) => r.out["loadMs"] as number))),
            maxRssMB: mb(sdkRss),
            modules: modules.map((m) => m.slice(m.lastIndexOf(`node_modules${path.sep}`) + "node_modules/".length)),
        },
        runs,
        resourcesPerModelVersion: perVersion,
        perVersionConstant: perVersion.every((p) => p.resourcesPerVersion === perVersion[0]?.resourcesPerVersion),
    };
}

async function analyseStacks() {
    // Loaded here, not for --help or a refused flag: the program loads the whole SDK, and the AWS cost model loads
    // @pulumi/aws (through the NAT instance's disk size), 1.3 s of CPU at start before.
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { parseRawConfig, validateStackConfig } =
        require("../../infra/config") as typeof import("../../infra/config");
    const { program } = require("../../infra/program") as typeof import("../../infra/program");
    const { runProgram } = require("../mock-runtime") as typeof import("../mock-runtime");
    const { criticalPath } = require("./critical-path") as typeof import("./critical-path");
    const { costInputs, monthlyCost } = require("./cost") as typeof import("./cost");
    const { azureCostInputs, azureMonthlyCost } = require("./azure-cost") as typeof import("./azure-cost");
    const { clusterRequests } = require("./requests") as typeof import("./requests");
    /* eslint-enable @typescript-eslint/no-require-imports */
    const paths: Record<string, CriticalPathReport | { error: string }> = {};
    const costs: Record<string, { region: string; scenarios: MonthlyCost[] } | { error: string }> = {};
    const clusterAdds: Record<string, ClusterRequests> = {};
    for (const stack of listStacks()) {
        const s = loadStack(stack);
        let resources;
        try {
            resources = (await runProgram(program as unknown as () => Promise<Record<string, unknown>>, s)).resources;
        } catch (err) {
            paths[stack] = costs[stack] = { error: `plan failed: ${(err as Error).message.split("\n")[0]}` };
            continue;
        }
        const raw = parseRawConfig(s.config);
        const cloud = CLOUDS.find((c) => c === raw.cloud);
        if (cloud === undefined) {
            paths[stack] = costs[stack] = { error: `cloud ${String(raw.cloud)}: not one of ${CLOUDS.join(", ")}` };
            continue;
        }
        paths[stack] = criticalPath(resources, cloud);
        if (cloud === "existing") {
            clusterAdds[stack] = clusterRequests(resources);
            costs[stack] = { error: "an existing cluster: no bill of its own (what it adds: below, clusterAdds)" };
            continue;
        }
        try {
            const validated = validateStackConfig(s.config, s.secretKeys);
            if (!validated.config) throw new Error(`invalid config: ${validated.issues.map((i) => i.key).join(", ")}`);
            const priced =
                cloud === "aws"
                    ? (() => {
                          const inputs = costInputs(resources, validated.config!);
                          return {
                              region: inputs.region,
                              pools: inputs.pools,
                              cost: (n: number) => monthlyCost(inputs, n),
                          };
                      })()
                    : (() => {
                          const inputs = azureCostInputs(resources, validated.config!);
                          return {
                              region: inputs.location,
                              pools: inputs.pools,
                              cost: (n: number) => azureMonthlyCost(inputs, n),
                          };
                      })();
            const firstGpu = priced.pools.find((p) => p.gpu);
            const busy = [...new Set([0, ...(firstGpu ? [1, firstGpu.maxSize] : [])])];
            costs[stack] = { region: priced.region, scenarios: busy.map(priced.cost) };
        } catch (err) {
            costs[stack] = { error: (err as Error).message };
        }
    }
    return { paths, costs, clusterAdds };
}

// ---------------------------------------------------------------------------------------------- printing

function table(headers: string[], rows: (string | number)[][], rightAlign: boolean[] = []): string {
    const cells = [headers, ...rows.map((r) => r.map(String))];
    const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
    const line = (r: string[]) =>
        r
            .map((c, i) => (rightAlign[i] ? c.padStart(widths[i]) : c.padEnd(widths[i])))
            .join("  ")
            .trimEnd();
    return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...cells.slice(1).map(line)].join("\n");
}

const minutes = (s: number) => `${(s / 60).toFixed(1)} min`;
const usd = (x: number) => `$${x.toFixed(2)}`;

async function main(argv: readonly string[]): Promise<number> {
    const { values } = parseOptions(argv, { repeat: { type: "string" } });
    const repeat = Number(values.repeat ?? 3);
    if (!Number.isInteger(repeat) || repeat < 1) throw new UsageError("--repeat takes a whole number >= 1");

    const loadBefore = os.loadavg()[0];
    const speed = measurePlanSpeed(repeat);
    const loadAfter = os.loadavg()[0];
    const { paths, costs, clusterAdds } = await analyseStacks();

    const out: string[] = [];
    out.push(
        `1. Plan speed and scaling (median of ${repeat} processes each; "x SDK" = ratio to a process that only loads the SDK modules the program imports)`,
    );
    out.push(
        table(
            ["run", "resources", "wall", "x SDK", "CPU", "x SDK", "import+run", "peak RSS", "x SDK", "per version"],
            [
                [
                    "SDK load only",
                    "-",
                    `${speed.sdkLoad.wallMs} ms`,
                    "1.00",
                    `${speed.sdkLoad.cpuMs} ms`,
                    "1.00",
                    `${speed.sdkLoad.loadMs} ms`,
                    `${speed.sdkLoad.maxRssMB} MB`,
                    "1.00",
                    "",
                ],
                ...speed.runs.map((r) => [
                    r.label,
                    r.resources,
                    `${r.wallMs} ms`,
                    r.wallRatio.toFixed(2),
                    `${r.cpuMs} ms`,
                    r.cpuRatio.toFixed(2),
                    `${r.importMs}+${r.runMs} ms`,
                    `${r.maxRssMB} MB`,
                    r.rssRatio.toFixed(2),
                    speed.resourcesPerModelVersion.find((p) => p.modelVersions === r.modelVersions)
                        ?.resourcesPerVersion ?? "",
                ]),
            ],
            [false, true, true, true, true, true, true, true, true, true],
        ),
    );
    if (Math.max(loadBefore, loadAfter) > os.cpus().length) {
        out.push(
            `note: load average ${loadBefore.toFixed(1)} -> ${loadAfter.toFixed(1)} on ${os.cpus().length} CPUs; wall times are inflated by other work, compare the CPU ratios`,
        );
    }
    out.push(
        `resources per model version ${speed.perVersionConstant ? "constant" : "NOT constant"}: ${speed.resourcesPerModelVersion.map((p) => p.resourcesPerVersion).join(", ")}`,
    );
    out.push("");

    out.push("2. Deployment critical path (estimated `pulumi up` from the dependency graph; typical, low-high)");
    const cpRows: (string | number)[][] = [];
    for (const [stack, r] of Object.entries(paths)) {
        if ("error" in r) {
            cpRows.push([stack, r.error, "", "", "", ""]);
            continue;
        }
        cpRows.push([
            stack,
            `${minutes(r.totals.typical)} (${minutes(r.totals.low)}-${minutes(r.totals.high)})`,
            `${minutes(r.floors.typical)} (${r.cloud})`,
            r.ratios.typical === null ? "-" : r.ratios.typical.toFixed(2),
            r.parallelism.toFixed(1),
            r.path.map((p) => `${p.name} ${Math.round(p.duration)}s`).join(" > "),
        ]);
    }
    out.push(table(["stack", "estimate", "floor", "x floor", "parallelism", "critical path"], cpRows));
    for (const [stack, r] of Object.entries(paths)) {
        if ("error" in r) continue;
        const costly = r.explicitDependencyCosts.filter((c) => c.savedSeconds > 0);
        for (const c of costly) {
            out.push(
                `  ${stack}: ${c.name} waits by explicit dependsOn for ${c.explicit.map((u) => u.split("::").pop()).join(", ")}; ` +
                    `without that edge the estimate would drop ${Math.round(c.savedSeconds)}s (needless only if nothing real needs the order)`,
            );
        }
        if (r.unknownTypes.length > 0)
            out.push(
                `  ${stack}: no create-time estimate for ${r.unknownTypes.join(", ")} (took the default; add to tools/bench/estimates.ts)`,
            );
    }
    out.push("");

    out.push(
        `3. Monthly cost (USD, ${HOURS_PER_MONTH} h; spot = ${SPOT_PRICE_FACTOR} x on-demand; AWS prices: ${PRICES_AS_OF}; Azure prices: ${AZURE_PRICES_AS_OF})`,
    );
    const costRows: (string | number)[][] = [];
    for (const [stack, c] of Object.entries(costs)) {
        if ("error" in c) {
            costRows.push([stack, "-", c.error, "", ""]);
            continue;
        }
        const [idle, ...busy] = c.scenarios;
        const top = idle.lines
            .filter((l) => l.monthly > 0)
            .sort((a, b) => b.monthly - a.monthly)
            .slice(0, 3);
        costRows.push([
            stack,
            c.region,
            usd(idle.total),
            busy.map((b) => `${b.busyGpuNodes} GPU: ${usd(b.total)}`).join(", ") || "-",
            top.map((l) => `${l.item} ${usd(l.monthly)}`).join("; "),
        ]);
    }
    out.push(table(["stack", "region", "idle", "GPU nodes busy all month", "largest idle items"], costRows));
    for (const [stack, c] of Object.entries(costs)) {
        if ("error" in c) continue;
        out.push(
            `  ${stack}, not in the total: ${c.scenarios[0].perGB.map((p) => `${p.item} ($${p.usdPerGB}/GB in ${c.region})`).join("; ")}; internet egress`,
        );
    }
    for (const [stack, r] of Object.entries(clusterAdds))
        out.push(
            `  ${stack} adds to its cluster: requests of ${r.cpuCores.toFixed(2)} CPU and ${r.memoryGiB.toFixed(2)} GiB memory ` +
                `(${r.workloads.length} workloads), ${r.loadBalancers} load balancer(s); not counted: ${r.notCounted.join(", ") || "-"}`,
        );
    process.stdout.write(`${out.join("\n")}\n`);

    const results = {
        schemaVersion: 1,
        generatedAt: new Date().toISOString(),
        command: `npm run bench -- --repeat ${repeat}`,
        environment: {
            node: process.version,
            platform: `${os.platform()} ${os.arch()}`,
            cpus: os.cpus().length,
            cpuModel: os.cpus()[0]?.model ?? "unknown",
            memoryGB: round(os.totalmem() / 2 ** 30, 1),
            loadAverage1m: { before: round(loadBefore, 2), after: round(loadAfter, 2) },
        },
        planSpeed: { repeat, ...speed },
        criticalPath: paths,
        cost: {
            pricesAsOf: PRICES_AS_OF,
            hoursPerMonth: HOURS_PER_MONTH,
            spotPriceFactor: SPOT_PRICE_FACTOR,
            azurePricesAsOf: AZURE_PRICES_AS_OF,
            azureSpotPriceFactor: AZURE_SPOT_PRICE_FACTOR,
            clusterAdds,
            assumedStorageGB: ASSUMED_STORAGE_GB,
            stacks: Object.fromEntries(
                Object.entries(costs).map(([stack, c]) => [
                    stack,
                    "error" in c
                        ? c
                        : {
                              region: c.region,
                              idleMonthly: round(c.scenarios[0].total, 2),
                              busy: c.scenarios
                                  .slice(1)
                                  .map((s) => ({ gpuNodes: s.busyGpuNodes, monthly: round(s.total, 2) })),
                              scenarios: c.scenarios.map((s) => ({
                                  busyGpuNodes: s.busyGpuNodes,
                                  monthly: round(s.total, 2),
                                  lines: s.lines.map((l) => ({
                                      ...l,
                                      unitPrice: l.unitPrice,
                                      monthly: round(l.monthly, 2),
                                  })),
                                  perGB: s.perGB,
                              })),
                          },
                ]),
            ),
        },
    };
    const file = path.join(PROJECT_ROOT, "bench", "results.json");
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${JSON.stringify(results, roundTimes, 2)}\n`);
    process.stdout.write(`\nwrote ${path.relative(PROJECT_ROOT, file)}\n`);
    return 0;
}

/** JSON replacer: seconds in the critical-path report to 0.1 s, totals and ratios to 0.01. */
function roundTimes(key: string, value: unknown): unknown {
    if (typeof value !== "number") return value;
    if (["start", "finish", "duration", "savedSeconds", "serialSeconds", "parallelism"].includes(key))
        return round(value, 1);
    if (["low", "typical", "high"].includes(key)) return round(value, 2);
    return value;
}

runAsScript(module, USAGE, main);
