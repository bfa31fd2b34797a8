/**
 * The study report as one self-contained HTML page: charts drawn with Vega-Lite (compiled to Vega, rendered to SVG in
 * Node: the page embeds them and loads nothing), then the tables. A small script marks each chart once the browser
 * has laid it out, so a test in a real browser can tell that every chart rendered.
 */
import { DELIVERY_MODES } from "../../contract/metric-contract";
import type { Cell } from "./queries";
import { renderMarkdown, type Report } from "./format";

/** One chart of the page: its id (the figure's data-chart), title and Vega-Lite spec. */
export interface ChartSpec {
    readonly id: string;
    readonly title: string;
    readonly spec: Record<string, unknown>;
}

const num = (c: Cell): number | null => (typeof c === "number" ? c : null);

/** Bars per task, one colour per mode, from one comparison column (rows without a value are left out). */
function byTaskAndMode(r: Report, column: keyof Report["comparison"][number]["cells"], axis: string, scale = 1) {
    const values = r.comparison.flatMap((row) => {
        const v = num(row.cells[column]);
        return v === null ? [] : [{ task: row.task, mode: row.mode, value: v / scale }];
    });
    return {
        data: { values },
        mark: "bar",
        encoding: {
            x: { field: "task", type: "nominal", title: null, axis: { labelAngle: -20 } },
            xOffset: { field: "mode" },
            y: { field: "value", type: "quantitative", title: axis },
            color: { field: "mode", type: "nominal", scale: { domain: [...DELIVERY_MODES] } },
            tooltip: [{ field: "task" }, { field: "mode" }, { field: "value", format: ".3~f" }],
        },
        width: 520,
        height: 220,
    };
}

/** Lines over the number of deliveries started at once, one per mode. */
function byConcurrency(r: Report, column: "leadTimeP50" | "failureRate", axis: string, scale = 1) {
    const values = r.scalability.flatMap((row) => {
        const v = num(row.cells[column]);
        return v === null ? [] : [{ concurrency: Number(row.concurrency), mode: row.mode, value: v / scale }];
    });
    return {
        data: { values },
        mark: { type: "line", point: true },
        encoding: {
            x: { field: "concurrency", type: "ordinal", title: "deliveries started at once" },
            y: { field: "value", type: "quantitative", title: axis },
            color: { field: "mode", type: "nominal", scale: { domain: [...DELIVERY_MODES] } },
        },
        width: 520,
        height: 220,
    };
}

/** The charts of the page, by mode: speed, stability, quality, ease, resources, scalability. */
export function chartSpecs(r: Report): ChartSpec[] {
    return [
        { id: "lead-time", title: "Lead time p50 (minutes)", spec: byTaskAndMode(r, "leadTimeP50", "minutes", 60) },
        { id: "failure-rate", title: "Failure rate", spec: byTaskAndMode(r, "failureRate", "share of runs") },
        {
            id: "time-to-recover",
            title: "Time to recover p50 (minutes)",
            spec: byTaskAndMode(r, "timeToRecoverP50", "minutes", 60),
        },
        { id: "accuracy", title: "Accuracy reached", spec: byTaskAndMode(r, "accuracyReached", "accuracy") },
        {
            id: "human-actions",
            title: "Human actions per run",
            spec: byTaskAndMode(r, "humanActionsPerRun", "actions"),
        },
        {
            id: "hands-on",
            title: "Hands-on minutes per run",
            spec: byTaskAndMode(r, "handsOnMinutesPerRun", "minutes"),
        },
        { id: "cpu", title: "CPU-hours per run", spec: byTaskAndMode(r, "cpuHoursPerRun", "CPU-hours") },
        { id: "gpu", title: "GPU-hours per run", spec: byTaskAndMode(r, "gpuHoursPerRun", "GPU-hours") },
        {
            id: "memory",
            title: "Memory GiB-hours per run",
            spec: byTaskAndMode(r, "memoryGibHoursPerRun", "GiB-hours"),
        },
        {
            id: "scalability-lead-time",
            title: "Scalability: lead time p50 (minutes) by deliveries at once",
            spec: byConcurrency(r, "leadTimeP50", "minutes", 60),
        },
        {
            id: "scalability-failure-rate",
            title: "Scalability: failure rate by deliveries at once",
            spec: byConcurrency(r, "failureRate", "share of runs"),
        },
    ];
}

const escape = (s: string) =>
    s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** Compiles a Vega-Lite spec and renders it to SVG, headless (Vega's "none" renderer: no canvas, no DOM). */
export async function toSvg(spec: Record<string, unknown>): Promise<string> {
    // ES modules with top-level await: loaded by import(), not require().
    const vega = await import("vega");
    const vl = await import("vega-lite");
    const compiled = vl.compile(spec as unknown as Parameters<typeof vl.compile>[0]).spec;
    const view = new vega.View(vega.parse(compiled), { renderer: "none" });
    try {
        return await view.toSVG();
    } finally {
        view.finalize();
    }
}

/**
 * Marks each figure data-rendered="yes" when its SVG has a laid-out size and at least one mark, and the body with
 * the count, so a headless browser's DOM dump says which charts rendered.
 */
const CHECK_SCRIPT = `
for (const f of document.querySelectorAll("figure[data-chart]")) {
    const svg = f.querySelector("svg");
    const box = svg ? svg.getBBox() : { width: 0, height: 0 };
    const marks = svg ? svg.querySelectorAll(".mark-rect path, .mark-line path, .mark-symbol path, .mark-rect rect").length : 0;
    f.dataset.rendered = box.width > 0 && box.height > 0 && marks > 0 ? "yes" : "no";
}
document.body.dataset.chartsRendered = String(document.querySelectorAll('figure[data-rendered="yes"]').length);
`;

/** The page: charts, then the report's tables as text. */
export async function renderHtml(r: Report): Promise<string> {
    const figures: string[] = [];
    for (const c of chartSpecs(r)) {
        const svg = await toSvg(c.spec);
        figures.push(`<figure data-chart="${c.id}"><figcaption>${escape(c.title)}</figcaption>\n${svg}\n</figure>`);
    }
    const since = new Date(r.window.since * 1000).toISOString();
    const until = new Date(r.window.until * 1000).toISOString();
    return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>mlops-testbed study report</title>
<style>
body { font-family: sans-serif; margin: 2em; }
figure { display: inline-block; margin: 1em; vertical-align: top; }
figcaption { font-weight: bold; margin-bottom: 0.5em; }
pre { font-size: 12px; }
</style>
</head>
<body>
<h1>Study report</h1>
<p>Task runs that ended between ${since} and ${until}, by delivery mode.</p>
${figures.join("\n")}
<h2>Tables</h2>
<pre>${escape(renderMarkdown(r))}</pre>
<script>${CHECK_SCRIPT}</script>
</body>
</html>
`;
}
