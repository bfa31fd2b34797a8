import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { renderDashboards } from "../monitoring/dashboards";
import { METRICS, MODEL_LABELS, type MetricSpec } from "../contract/metric-contract";
import { prometheusRuleSpecs } from "../monitoring/rules";
import { STUDY_TASKS, recordingMetric } from "../contract/study-tasks";
import { DELIVERY_MODES } from "../contract/metric-contract";
import { configSchema } from "../infra/config";
import { alertThresholdsSchema } from "../contract/config/monitoring";
import { OUTPUT_KEYS } from "../infra/outputs";
import { PROJECT_ROOT } from "../tools/stack";

const readme = fs.readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8");
const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8")) as {
    scripts: Record<string, string>;
};

/** The README section under a `##` or `###` heading, up to the next heading of any level. */
function section(heading: string): string {
    const start = readme.indexOf(`${heading}\n`);
    assert.ok(start >= 0, `README has a "${heading}" section`);
    const end = readme.slice(start + 1).search(/\n#{2,3} /);
    return readme.slice(start, end < 0 ? undefined : start + 1 + end);
}

/** Rows `| `key` | ...` of the README table under a heading. */
function tableKeys(heading: string): string[] {
    return [...section(`## ${heading}`).matchAll(/^\| `([A-Za-z]+)` \|/gm)].map((m) => m[1]);
}

describe("README stays true", () => {
    it("starts with the two newcomer commands", () => {
        const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
        const commands = firstBlock
            .split("\n")
            .map((l) => l.replace(/#.*$/, "").trim())
            .filter(Boolean);
        assert.deepEqual(commands, [
            "bash tools/install-debian-packages.sh && bash tools/install-python-packages.sh && npm ci && npm run plan",
            "npm test",
        ]);
    });

    it("documents exactly the top-level config keys", () => {
        assert.deepEqual(tableKeys("Configuration").sort(), Object.keys(configSchema.shape).sort());
    });

    it("documents exactly the stack outputs, in order", () => {
        assert.deepEqual(tableKeys("Stack outputs"), [...OUTPUT_KEYS]);
    });

    it("names only npm scripts that exist", () => {
        const named = [...readme.matchAll(/npm run ([a-z:-]+)/g)].map((m) => m[1]);
        assert.ok(named.length > 0);
        for (const s of named) assert.ok(pkg.scripts[s], `npm run ${s} is in the README but not in package.json`);
    });

    it(".ci/run runs exactly the README's test command", () => {
        const ci = fs.readFileSync(path.join(PROJECT_ROOT, ".ci/run"), "utf8");
        assert.match(ci, /^npm test$/m);
        assert.match(ci, /^\s*npm ci\b/m);
        assert.match(
            ci,
            /^bash tools\/install-debian-packages\.sh$/m,
            "CI installs what the README's first command installs",
        );
    });

    it("documents exactly the metric contract: names, types and extra labels", () => {
        const rows = [...section("### The metric contract").matchAll(/^\| `([a-z_]+)` \| ([a-z]+) \|([^|]*)\|/gm)].map(
            (m) => ({
                name: m[1],
                type: m[2],
                labels: [...m[3].matchAll(/`([a-z_]+)`/g)].map((l) => l[1]),
            }),
        );
        const contract = Object.values(METRICS).map((m: MetricSpec) => ({
            name: m.name,
            type: m.type,
            labels: m.labels.filter((l) => !(MODEL_LABELS as readonly string[]).includes(l)),
        }));
        assert.deepEqual(rows, contract);
    });

    it("names every dashboard uid and every alert the program provisions", () => {
        const text = section("## Monitoring: dashboards, alerts and the metric contract");
        for (const d of renderDashboards())
            assert.ok(text.includes(`(\`${d.uid}\``), `dashboard ${d.uid} is not in the README`);
        const alerts = prometheusRuleSpecs(alertThresholdsSchema.parse({}))
            .flatMap((s) => s.groups.flatMap((g) => [...g.rules]))
            .flatMap((r) => ("alert" in r ? [r.alert] : []));
        assert.ok(alerts.length > 0);
        for (const a of alerts) assert.ok(text.includes(`\`${a}\``), `alert ${a} is not in the README`);
    });

    it("maps the layout: every path it names exists, every top-level folder is named", () => {
        const rows = [...section("## Layout").matchAll(/^\| (.+?) \| .* \|$/gm)]
            .map((m) => m[1])
            .filter((c) => c !== "path" && !c.startsWith("---"));
        const paths = rows.flatMap((cell) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]));
        assert.ok(paths.length > 5);
        for (const p of paths)
            assert.ok(fs.existsSync(path.join(PROJECT_ROOT, p)), `README layout names ${p}, which does not exist`);
        const folders = fs
            .readdirSync(PROJECT_ROOT, { withFileTypes: true })
            .filter((d) => d.isDirectory() && !d.name.startsWith(".") && !["node_modules", "out"].includes(d.name))
            .map((d) => d.name);
        for (const f of folders) {
            assert.ok(
                paths.some((p) => p === f || p.startsWith(`${f}/`)),
                `top-level folder ${f}/ is not in the README layout`,
            );
        }
    });

    it("documents exactly the standardized tasks: start and end events per mode and the recording metric", () => {
        const rows = [
            ...section("## Running a study: standardized tasks and `npm run report`").matchAll(
                /^\| `([a-z-]+)` \| ([a-z]+) \| ([^|]+) \| ([^|]+) \| `([a-z_]+)` \|$/gm,
            ),
        ].map((m) => m.slice(1, 6));
        const tasks = STUDY_TASKS.flatMap((t) =>
            DELIVERY_MODES.map((mode) => [t.id, mode, t.modes[mode].start, t.modes[mode].end, recordingMetric(t)]),
        );
        assert.equal(tasks.length, 15);
        assert.deepEqual(rows, tasks);
    });
});
