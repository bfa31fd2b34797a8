/**
 * The study report and every dashboard and rule expression against a real Prometheus (Debian's package): a TSDB
 * backfilled from the deterministic study fixture, then with the recording rules evaluated over it by
 * `promtool tsdb create-blocks-from rules`, served on 127.0.0.1.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { RECORDED } from "../contract/metric-contract";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { renderDashboards } from "../monitoring/dashboards";
import { ruleExpressions } from "../monitoring/rules";
import { alertThresholdsSchema } from "../contract/config/monitoring";
import { PROJECT_ROOT } from "../tools/stack";
import { instantQuery, main } from "../tools/report";
import {
    backfillOpenMetrics,
    backfillRules,
    freePort,
    moveBlocks,
    startPrometheus,
    type RunningPrometheus,
} from "./prometheus-server";
import { metricCatalog, seriesProblems, substituteGrafanaVariables } from "./promql";
import { writeRuleFiles } from "./promtool";
import { GPU_NODES, MODEL, SERVING, T0, T_END, WINDOW, fixtureOpenMetrics, fixtureSeries } from "./study-fixture";

const DEFAULTS = alertThresholdsSchema.parse({});
const WINDOW_ARGS = [
    "--since",
    new Date(WINDOW.since * 1000).toISOString(),
    "--until",
    new Date(WINDOW.until * 1000).toISOString(),
];

/** docs/study.md's example report: the fenced block after the marker line. */
function readmeExample(): string {
    const readme = fs.readFileSync(path.join(PROJECT_ROOT, "docs", "study.md"), "utf8");
    const m =
        /<!-- report example: npm run report -- --since 2025-01-06T01:00:00Z --until 2025-01-06T03:00:00Z -->\n```text\n([\s\S]*?)```/.exec(
            readme,
        );
    assert.ok(m, "docs/study.md has the example report block");
    return m[1];
}

describe("the study fixture", () => {
    it("uses only series and labels the exporters and the metric contract really emit", () => {
        const catalog = metricCatalog();
        const problems = fixtureSeries().flatMap((s) => seriesProblems(s.name, Object.keys(s.labels), catalog));
        assert.deepEqual([...new Set(problems)], []);
    });
});

describe("study report and expressions on a real Prometheus", function () {
    this.timeout(180_000);
    let dir: string;
    let prom: RunningPrometheus | undefined;

    before(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlops-prometheus-"));
        const tsdb = path.join(dir, "tsdb");
        backfillOpenMetrics(dir, fixtureOpenMetrics(), tsdb);
        // Recording rules: evaluated over the fixture by promtool against a first server, then served with it.
        const rulesDir = path.join(dir, "rules");
        const [recording] = writeRuleFiles(rulesDir, DEFAULTS);
        prom = await startPrometheus(dir, tsdb);
        backfillRules(prom.url, [recording], T0, T_END, path.join(dir, "rule-blocks"), rulesDir);
        await prom.stop();
        prom = undefined;
        assert.ok(moveBlocks(path.join(dir, "rule-blocks"), tsdb) > 0, "promtool wrote recording-rule blocks");
        prom = await startPrometheus(dir, tsdb);
    });

    after(async () => {
        await prom?.stop();
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    const report = async (...args: string[]) => main(["--prometheus", prom!.url, ...args]);

    it("prints the comparison figures the fixture implies", async () => {
        const r = await report(...WINDOW_ARGS, "--format", "json");
        assert.equal(r.code, 0, r.stderr);
        const doc = JSON.parse(r.stdout) as {
            comparison: Record<string, unknown>[];
            quality: Record<string, unknown>[];
        };
        const row = (task: string, mode: string) => {
            const found = doc.comparison.find((x) => x.task === task && x.mode === mode);
            assert.ok(found, `${task} ${mode}`);
            return Object.fromEntries(
                Object.entries(found).map(([k, v]) => [k, typeof v === "number" ? Math.round(v * 1e6) / 1e6 : v]),
            );
        };
        assert.equal(doc.comparison.length, 18, "six tasks x three modes");
        // The scalability task in its own row: one push for two models is half an action per delivery.
        assert.deepEqual(row("deliver-several-models", "automated"), {
            task: "deliver-several-models",
            mode: "automated",
            runs: 3,
            leadTimeP50: 450,
            leadTimeP95: 585,
            failureRate: 0.333333,
            rollbacks: 0,
            timeToRecoverP50: "n/a",
            accuracyReached: 0.95,
            humanActionsPerRun: 0.666667,
            handsOnMinutesPerRun: 1,
            cpuHoursPerRun: 0.5,
            gpuHoursPerRun: 0,
            memoryGibHoursPerRun: 1,
        });
        // Four runs ended in the window (the fifth before it): lead times 300, 360, 420, 600 s, one failed and rolled back.
        assert.deepEqual(row("deploy-new-version", "automated"), {
            task: "deploy-new-version",
            mode: "automated",
            runs: 4,
            leadTimeP50: 390,
            leadTimeP95: 573,
            failureRate: 0.25,
            rollbacks: 1,
            timeToRecoverP50: "n/a",
            accuracyReached: 0.95,
            humanActionsPerRun: 1,
            handsOnMinutesPerRun: 1,
            cpuHoursPerRun: 0.5,
            gpuHoursPerRun: 1,
            memoryGibHoursPerRun: 1,
        });
        assert.deepEqual(row("deploy-new-version", "manual"), {
            task: "deploy-new-version",
            mode: "manual",
            runs: 3,
            leadTimeP50: 5400,
            leadTimeP95: 7020,
            failureRate: 0.333333,
            rollbacks: 0,
            timeToRecoverP50: "n/a",
            accuracyReached: 0.91,
            humanActionsPerRun: 8,
            handsOnMinutesPerRun: 30,
            cpuHoursPerRun: 1.5,
            gpuHoursPerRun: 2,
            memoryGibHoursPerRun: 2,
        });
        assert.deepEqual(row("rollback-bad-version", "automated"), {
            task: "rollback-bad-version",
            mode: "automated",
            runs: 2,
            leadTimeP50: 150,
            leadTimeP95: 177,
            failureRate: 0,
            rollbacks: 2,
            timeToRecoverP50: 150,
            accuracyReached: 0.955,
            humanActionsPerRun: 0,
            handsOnMinutesPerRun: 0,
            cpuHoursPerRun: 0.016667,
            gpuHoursPerRun: 0,
            memoryGibHoursPerRun: 0.1,
        });
        // One run delivering three versions: its lead time is the slowest version's.
        assert.deepEqual(row("side-by-side", "automated"), {
            task: "side-by-side",
            mode: "automated",
            runs: 1,
            leadTimeP50: 600,
            leadTimeP95: 600,
            failureRate: 0,
            rollbacks: 0,
            timeToRecoverP50: "n/a",
            accuracyReached: 0.95,
            humanActionsPerRun: 1,
            handsOnMinutesPerRun: 1,
            cpuHoursPerRun: 0.25,
            gpuHoursPerRun: 0,
            memoryGibHoursPerRun: 1,
        });
        // The only run failed: no accuracy reached, no recovery.
        assert.deepEqual(row("recover-failed-deployment", "manual"), {
            task: "recover-failed-deployment",
            mode: "manual",
            runs: 1,
            leadTimeP50: 3000,
            leadTimeP95: 3000,
            failureRate: 1,
            rollbacks: 0,
            timeToRecoverP50: null,
            accuracyReached: null,
            humanActionsPerRun: 8,
            handsOnMinutesPerRun: 30,
            cpuHoursPerRun: 0.333333,
            gpuHoursPerRun: 0,
            memoryGibHoursPerRun: 1,
        });
        assert.deepEqual(row("side-by-side", "manual"), {
            task: "side-by-side",
            mode: "manual",
            runs: 0,
            leadTimeP50: null,
            leadTimeP95: null,
            failureRate: null,
            rollbacks: null,
            timeToRecoverP50: "n/a",
            accuracyReached: null,
            humanActionsPerRun: null,
            handsOnMinutesPerRun: null,
            cpuHoursPerRun: null,
            gpuHoursPerRun: null,
            memoryGibHoursPerRun: null,
        });
        const quality = doc.quality.map((q) =>
            Object.fromEntries(
                Object.entries(q).map(([k, v]) => [k, typeof v === "number" ? Math.round(v * 1e6) / 1e6 : v]),
            ),
        );
        assert.deepEqual(quality, [
            {
                model: "iris",
                version: "v2",
                // The slot was delivered by the simplified mode before the automated one.
                mode: "automated+simplified",
                accuracy: 0.94,
                latencyP95: 0.375,
                errorRate: 0.02,
                drift: 0.12,
            },
            {
                model: "iris",
                version: "v8",
                mode: "manual",
                accuracy: 0.87,
                latencyP95: 0.75,
                errorRate: 0.1,
                drift: 0.41,
            },
        ]);
    });

    it("compares lead time and failure rate by how many deliveries ran at once, per mode", async () => {
        const r = await report(...WINDOW_ARGS, "--format", "json");
        assert.equal(r.code, 0, r.stderr);
        const doc = JSON.parse(r.stdout) as { scalability: Record<string, unknown>[] };
        const rounded = doc.scalability.map((x) =>
            Object.fromEntries(
                Object.entries(x).map(([k, v]) => [k, typeof v === "number" ? Math.round(v * 1e6) / 1e6 : v]),
            ),
        );
        const none = { runs: 0, leadTimeP50: null, leadTimeP95: null, failureRate: null };
        assert.deepEqual(rounded, [
            // Only deliver-several-models runs: one alone (240 s); two started together (450 s, and 600 s failed),
            // not the two deploy-new-version runs that also ran two at once; one manual alone.
            { mode: "automated", concurrency: 1, runs: 1, leadTimeP50: 240, leadTimeP95: 240, failureRate: 0 },
            { mode: "automated", concurrency: 2, runs: 2, leadTimeP50: 525, leadTimeP95: 592.5, failureRate: 0.5 },
            { mode: "automated", concurrency: 4, ...none },
            { mode: "simplified", concurrency: 1, ...none },
            { mode: "simplified", concurrency: 2, ...none },
            { mode: "simplified", concurrency: 4, ...none },
            { mode: "manual", concurrency: 1, runs: 1, leadTimeP50: 2400, leadTimeP95: 2400, failureRate: 0 },
            { mode: "manual", concurrency: 2, ...none },
            { mode: "manual", concurrency: 4, ...none },
        ]);
    });

    it("attributes live accuracy to the mode of a slot's last successful delivery, once per slot", async () => {
        // v2 was delivered by the simplified mode, then by the automated one: matching both failed many-to-many.
        const panel = JSON.parse(renderDashboards().find((d) => d.uid === "mlops-experiments")!.json) as {
            panels: { title?: string; targets?: { expr: string }[] }[];
        };
        const expr = panel.panels.find((p) => p.title === "Live accuracy by mode")!.targets![0].expr;
        const result = await instantQuery(prom!.url, expr, T_END, "");
        const byMode = Object.fromEntries(result.map((s) => [s.metric.mode, Number(s.value[1])]));
        assert.deepEqual(byMode, { automated: 0.94, manual: 0.87 });
    });

    it("writes one self-contained HTML page whose every chart renders in a real headless browser", async () => {
        const r = await report(...WINDOW_ARGS, "--format", "html");
        assert.equal(r.code, 0, r.stderr);
        // Self-contained: nothing to load from anywhere.
        assert.doesNotMatch(r.stdout, /<(script|link|img)[^>]+(src|href)=/);
        const file = path.join(dir, "report.html");
        fs.writeFileSync(file, r.stdout);
        // Debian's chromium (tools/install-debian-packages.sh); as root it needs --no-sandbox.
        const browser = spawnSync(
            "chromium",
            [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--user-data-dir=" + path.join(dir, "chromium"),
                "--dump-dom",
                `file://${file}`,
            ],
            { encoding: "utf8", timeout: 60_000 },
        );
        assert.equal(browser.status, 0, `chromium: ${browser.error?.message ?? browser.stderr}`);
        const dom = browser.stdout;
        const charts = [...dom.matchAll(/<figure data-chart="([a-z-]+)" data-rendered="(yes|no)"/g)].map((m) => [
            m[1],
            m[2],
        ]);
        const ids = [
            "lead-time",
            "failure-rate",
            "time-to-recover",
            "accuracy",
            "human-actions",
            "hands-on",
            "cpu",
            "gpu",
            "memory",
            "scalability-lead-time",
            "scalability-failure-rate",
        ];
        assert.deepEqual(
            charts,
            ids.map((id) => [id, "yes"]),
            "the page's script marked every chart laid out, with marks",
        );
        assert.match(dom, new RegExp(`<body data-charts-rendered="${ids.length}"`));
    });

    it("counts a run by when it ended: a longer window takes in the earlier run", async () => {
        const r = await report("--since", "3h", "--until", String(T_END), "--format", "csv");
        assert.equal(r.code, 0, r.stderr);
        const line = r.stdout.split("\n").find((l) => l.startsWith("deploy-new-version,automated,"));
        // Lead times 300, 360, 420, 600 and 10000 s: median 420, all five counted.
        assert.match(line ?? "", /^deploy-new-version,automated,5,420,/);
    });

    it("the README's example is the report of the fixture", async () => {
        const r = await report(...WINDOW_ARGS);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stderr, "");
        assert.equal(readmeExample(), r.stdout);
    });

    it("shows no data, with a note, for a window without runs", async () => {
        const r = await report("--since", "2024-01-01T00:00:00Z", "--until", "2024-01-02T00:00:00Z");
        assert.equal(r.code, 0);
        assert.match(
            r.stderr,
            /^Prometheus at .* has no task runs and no model-server metrics in this window: every cell is "no data"\.\n$/,
        );
        assert.match(r.stdout, /\| deploy-new-version \| automated \| 0 \| no data \| no data \|/);
        assert.match(r.stdout, /\(no data: no model server exported metrics in the window\)/);
    });

    it("fails in one line with exit code 3 when Prometheus is unreachable", async () => {
        const port = await freePort();
        const r = await main(["--prometheus", `http://127.0.0.1:${port}`, ...WINDOW_ARGS]);
        assert.equal(r.code, 3);
        assert.equal(r.stdout, "");
        assert.match(
            r.stderr,
            new RegExp(
                `^cannot reach Prometheus at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\); check the URL\\n$`,
            ),
        );
    });

    it("reports a query Prometheus refuses in one line with exit code 3", async () => {
        await assert.rejects(
            instantQuery(prom!.url, "sum(rate(x))", T_END, "hint"),
            /^Error: Prometheus at .* refused a query \(bad_data: .*\): sum\(rate\(x\)\)$/,
        );
    });

    /** Evaluates `expr` at the fixture's end; returns the problem, or undefined when it returns data. */
    async function evaluate(expr: string): Promise<string | undefined> {
        try {
            const result = await instantQuery(prom!.url, expr, T_END, "");
            return result.length === 0 ? "returned no data" : undefined;
        } catch (err) {
            return (err as Error).message;
        }
    }

    it("every rule expression evaluates and returns data (the fixture makes every alert fire)", async () => {
        const problems: string[] = [];
        const all = ruleExpressions(DEFAULTS);
        assert.ok(all.length >= 20);
        for (const { where, expr } of all) {
            const p = await evaluate(expr);
            if (p) problems.push(`${where}: ${p}\n    ${expr}`);
        }
        assert.deepEqual(problems, []);
    });

    it("every recorded series has data over the fixture", async () => {
        const problems: string[] = [];
        for (const name of Object.values(RECORDED)) {
            const p = await evaluate(`count(count_over_time({__name__="${name}"}[3h]))`);
            if (p) problems.push(`${name}: ${p}`);
        }
        assert.deepEqual(problems, []);
    });

    it("every dashboard query and variable evaluates and returns data", async () => {
        const values = { model: MODEL, versions: SERVING.map((s) => s.version).join("|"), node: GPU_NODES.join("|") };
        const problems: string[] = [];
        let n = 0;
        for (const d of renderDashboards()) {
            const model = JSON.parse(d.json) as {
                panels: { type: string; title?: string; targets?: { expr?: string }[] }[];
                templating?: { list?: { name: string; definition?: string }[] };
            };
            const exprs = [
                ...model.panels.flatMap((p) =>
                    (p.targets ?? []).map((t) => ({ where: `${d.uid} / ${p.title}`, expr: t.expr! })),
                ),
                ...(model.templating?.list ?? []).map((v) => ({
                    where: `${d.uid}: variable ${v.name}`,
                    expr: /^label_values\((.+),\s*\w+\)$/.exec(v.definition ?? "")?.[1] ?? `invalid(${v.definition})`,
                })),
            ];
            for (const { where, expr } of exprs) {
                n++;
                const p = await evaluate(substituteGrafanaVariables(expr, values));
                if (p) problems.push(`${where}: ${p}\n    ${expr}`);
            }
        }
        assert.ok(n >= 50, `${n} dashboard expressions`);
        assert.deepEqual(problems, []);
    });
});
