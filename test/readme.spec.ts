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

const read = (rel: string) => fs.readFileSync(path.join(PROJECT_ROOT, rel), "utf8");
const readme = read("README.md");
const DOCS = fs
    .readdirSync(path.join(PROJECT_ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`);
const pkg = JSON.parse(read("package.json")) as { scripts: Record<string, string> };

/** The part of a page under a heading (any level), up to the next heading of the same or a higher level. */
function section(text: string, heading: string): string {
    const m = /^(#+) /.exec(heading);
    assert.ok(m, heading);
    const start = text.indexOf(`${heading}\n`);
    assert.ok(start >= 0, `has a "${heading}" section`);
    const next = text.slice(start + 1).search(new RegExp(`\\n#{1,${m[1].length}} `));
    return text.slice(start, next < 0 ? undefined : start + 1 + next);
}

/** Rows `| `key` | ...` of the first table of a page. */
function tableKeys(text: string): string[] {
    return [...text.matchAll(/^\| `([A-Za-z]+)` \|/gm)].map((m) => m[1]);
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as dashes. */
export function headingAnchor(heading: string): string {
    return heading
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}_\- ]/gu, "")
        .replace(/ /g, "-");
}

describe("README stays true", () => {
    it("starts with the two newcomer commands", () => {
        const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
        const commands = firstBlock
            .split("\n")
            .map((l) => l.replace(/#.*$/, "").trim())
            .filter(Boolean);
        assert.deepEqual(commands, ["bash tools/install.sh && npm run plan", "npm test"]);
    });

    it("is short enough for a first read, and links every docs page", () => {
        assert.ok(readme.split("\n").length <= 250, `README has ${readme.split("\n").length} lines`);
        for (const d of DOCS) assert.ok(readme.includes(`](${d})`), `README links ${d}`);
    });

    it("docs/configuration.md documents exactly the top-level config keys", () => {
        assert.deepEqual(tableKeys(read("docs/configuration.md")).sort(), Object.keys(configSchema.shape).sort());
    });

    it("docs/outputs.md documents exactly the stack outputs, in order", () => {
        assert.deepEqual(tableKeys(read("docs/outputs.md")), [...OUTPUT_KEYS]);
    });

    it("names only npm scripts that exist, in the README and in docs/", () => {
        for (const file of ["README.md", ...DOCS]) {
            const named = [...read(file).matchAll(/npm run (?:--silent |-s )?([a-z:-]+)/g)].map((m) => m[1]);
            for (const s of named) assert.ok(pkg.scripts[s], `npm run ${s} is in ${file} but not in package.json`);
        }
    });

    it("every relative link of the README and docs/ resolves: the file exists, and so does the heading", () => {
        const problems: string[] = [];
        for (const file of ["README.md", ...DOCS]) {
            const text = read(file).replace(/```[\s\S]*?```/g, "");
            for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
                if (/^[a-z]+:/.test(target)) continue;
                const [rel, anchor] = target.split("#");
                const resolved = rel ? path.join(path.dirname(file), rel) : file;
                if (!fs.existsSync(path.join(PROJECT_ROOT, resolved))) {
                    problems.push(`${file}: ${target} (no ${resolved})`);
                    continue;
                }
                if (!anchor) continue;
                const headings = [...read(resolved).matchAll(/^#+ (.*)$/gm)].map((m) => headingAnchor(m[1]));
                if (!headings.includes(anchor))
                    problems.push(`${file}: ${target} (no heading #${anchor} in ${resolved})`);
            }
        }
        assert.deepEqual(problems, []);
    });

    it(".ci/run runs exactly the README's test command", () => {
        const ci = fs.readFileSync(path.join(PROJECT_ROOT, ".ci/run"), "utf8");
        assert.match(ci, /^npm test$/m);
        assert.match(ci, /^bash tools\/install\.sh$/m, "CI installs what the README's first command installs");
        const install = fs.readFileSync(path.join(PROJECT_ROOT, "tools/install.sh"), "utf8");
        assert.match(install, /^\s*npm ci\b/m);
        assert.match(install, /^bash tools\/install-debian-packages\.sh$/m);
    });

    it("names in its layout table every command .ci/run runs, in its order", () => {
        const ci = fs.readFileSync(path.join(PROJECT_ROOT, ".ci/run"), "utf8");
        // npm's commands, and the scripts it runs itself but the install (the row's "installs").
        const commands = [...ci.matchAll(/^(?:npm (?:test|run [a-z:]+)|bash tools\/[a-z-]+\.sh)/gm)]
            .map((m) => m[0].replace(/^bash /, ""))
            .filter((c) => c !== "tools/install.sh");
        assert.ok(commands.length >= 2, `.ci/run runs ${commands.join(", ")}`);
        const row = read("README.md")
            .split("\n")
            .find((l) => l.startsWith("| `.ci/run` |"));
        assert.ok(row, "no .ci/run row in the README's layout table");
        assert.deepEqual(
            [...row.matchAll(/`(npm (?:test|run [a-z:]+)|tools\/[a-z-]+\.sh)`/g)].map((m) => m[1]),
            commands,
        );
    });

    it("documents exactly the metric contract: names, types and extra labels", () => {
        const rows = [
            ...section(read("docs/monitoring.md"), "## The metric contract").matchAll(
                /^\| `([a-z_]+)` \| ([a-z]+) \|([^|]*)\|/gm,
            ),
        ].map((m) => ({
            name: m[1],
            type: m[2],
            labels: [...m[3].matchAll(/`([a-z_]+)`/g)].map((l) => l[1]),
        }));
        const contract = Object.values(METRICS).map((m: MetricSpec) => ({
            name: m.name,
            type: m.type,
            labels: m.labels.filter((l) => !(MODEL_LABELS as readonly string[]).includes(l)),
        }));
        assert.deepEqual(rows, contract);
    });

    it("names every dashboard uid and every alert the program provisions", () => {
        const text = read("docs/monitoring.md");
        for (const d of renderDashboards())
            assert.ok(text.includes(`(\`${d.uid}\``), `dashboard ${d.uid} is not in docs/monitoring.md`);
        const alerts = prometheusRuleSpecs(alertThresholdsSchema.parse({}))
            .flatMap((s) => s.groups.flatMap((g) => [...g.rules]))
            .flatMap((r) => ("alert" in r ? [r.alert] : []));
        assert.ok(alerts.length > 0);
        for (const a of alerts) assert.ok(text.includes(`\`${a}\``), `alert ${a} is not in docs/monitoring.md`);
    });

    it("maps the layout: every path it names exists, every top-level folder is named", () => {
        const rows = [...section(readme, "## Layout").matchAll(/^\| (.+?) \| .* \|$/gm)]
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
            ...read("docs/study.md").matchAll(/^\| `([a-z-]+)` \| ([a-z]+) \| ([^|]+) \| ([^|]+) \| `([a-z_]+)` \|$/gm),
        ].map((m) => m.slice(1, 6));
        const tasks = STUDY_TASKS.flatMap((t) =>
            DELIVERY_MODES.map((mode) => [t.id, mode, t.modes[mode].start, t.modes[mode].end, recordingMetric(t)]),
        );
        assert.equal(tasks.length, 18);
        assert.deepEqual(rows, tasks);
    });
});
