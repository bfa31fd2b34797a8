/** Renders the study report's tables as Markdown, CSV or JSON. Pure. */
import {
    COMPARISON_COLUMNS,
    QUALITY_COLUMNS,
    SCALABILITY_COLUMNS,
    type Cell,
    type ComparisonColumn,
    type ComparisonRow,
    type QualityColumn,
    type QualityRow,
    type ScalabilityColumn,
    type ScalabilityRow,
    type Window,
} from "./queries";

export const FORMATS = ["markdown", "csv", "json", "html"] as const;
export type Format = (typeof FORMATS)[number];

export interface Report {
    readonly window: Window;
    readonly comparison: readonly ComparisonRow[];
    readonly scalability: readonly ScalabilityRow[];
    readonly quality: readonly QualityRow[];
}

/** Column headers; the unit is in the header where the Markdown cell carries none. */
const COMPARISON_HEADERS: Record<ComparisonColumn, string> = {
    runs: "runs",
    leadTimeP50: "lead time p50",
    leadTimeP95: "lead time p95",
    failureRate: "failure rate",
    rollbacks: "rollbacks",
    timeToRecoverP50: "time to recover p50",
    accuracyReached: "accuracy reached",
    humanActionsPerRun: "human actions/run",
    handsOnMinutesPerRun: "hands-on min/run",
    cpuHoursPerRun: "CPU-hours/run",
    gpuHoursPerRun: "GPU-hours/run",
    memoryGibHoursPerRun: "memory GiB-hours/run",
};
const SCALABILITY_HEADERS: Record<ScalabilityColumn, string> = {
    runs: "runs",
    leadTimeP50: "lead time p50",
    leadTimeP95: "lead time p95",
    failureRate: "failure rate",
};
const QUALITY_HEADERS: Record<QualityColumn, string> = {
    accuracy: "accuracy",
    latencyP95: "p95 latency",
    errorRate: "error rate",
    drift: "drift",
};

/**
 * What the ease columns count in each mode: a person's actions to deliver and the minutes spent on them. Printed
 * under the comparison so a reader knows why an automated run's hands-on time is near zero.
 */
export const EASE_OF_DEPLOYMENT = {
    automated:
        "1 action, the git push or dataset upload that starts the run (0 when an alert starts it); hands-on time is that " +
        "command's own time: everything after it runs without the person",
    simplified:
        "1 action, the command that starts the pipeline (npm run pipelinerun, kubectl create); hands-on time is that " +
        "command's time",
    manual:
        "every runbook command the person types, logged by step_usage.sh: train, evaluate, the store copies, the " +
        "Deployment apply, the rollout wait, the smoke test and the route edit; hands-on time is their wall time",
} as const;

/** CSV and JSON carry plain numbers in these units. */
const UNITS: Record<ComparisonColumn | QualityColumn, string> = {
    runs: "",
    leadTimeP50: "seconds",
    leadTimeP95: "seconds",
    failureRate: "ratio",
    rollbacks: "",
    timeToRecoverP50: "seconds",
    accuracyReached: "ratio",
    humanActionsPerRun: "",
    handsOnMinutesPerRun: "minutes",
    cpuHoursPerRun: "hours",
    gpuHoursPerRun: "hours",
    memoryGibHoursPerRun: "GiB-hours",
    accuracy: "ratio",
    latencyP95: "seconds",
    errorRate: "ratio",
    drift: "score",
};

/** 45 s, 12 min 05 s, 2 h 03 min. A duration that rounds to a minute or an hour is shown in the larger unit. */
export function formatDuration(seconds: number): string {
    const tenths = Math.round(seconds * 10) / 10;
    if (tenths < 60) return `${trim(tenths.toFixed(1))} s`;
    const s = Math.round(seconds);
    if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
    const m = Math.round(s / 60);
    return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
}

/** A `toFixed` result (one digit or more after the point) without its trailing zeros, nor its point if none is left. */
function trim(n: string): string {
    return n.replace(/\.?0+$/, "");
}

const percent = (v: number, digits: number) => `${(v * 100).toFixed(digits)}%`;

function display(column: ComparisonColumn | QualityColumn, cell: Cell): string {
    if (typeof cell !== "number") return cell;
    switch (column) {
        case "runs":
        case "rollbacks":
            return String(Math.round(cell));
        case "leadTimeP50":
        case "leadTimeP95":
        case "timeToRecoverP50":
            return formatDuration(cell);
        case "failureRate":
            return percent(cell, 1);
        case "errorRate":
            return percent(cell, 2);
        case "humanActionsPerRun":
        case "handsOnMinutesPerRun":
            return trim(cell.toFixed(1));
        case "accuracyReached":
        case "accuracy":
        case "drift":
            return cell.toFixed(3);
        case "latencyP95":
            return cell < 1 ? `${trim((cell * 1000).toFixed(1))} ms` : `${trim(cell.toFixed(2))} s`;
        default:
            return formatAmount(cell);
    }
}

/**
 * Resource use per run (CPU-, GPU-, GiB-hours): two decimals, but two significant digits below 0.01, so a small local
 * run's use (a few CPU-seconds are about 0.001 CPU-hours) is shown rather than rounded to the 0.00 of no use at all.
 */
export function formatAmount(v: number): string {
    return v > 0 && v < 0.01 ? v.toPrecision(2) : v.toFixed(2);
}

/** A table cell's text: a label value may hold a pipe or a line break, which would end the cell or the row. */
const markdownCell = (v: string) => v.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");

function markdownTable(headers: string[], rows: string[][]): string[] {
    const line = (cells: string[]) => `| ${cells.map(markdownCell).join(" | ")} |`;
    return [
        line(headers),
        line(headers.map((_, i) => (i < 2 || headers[i] === "mode" ? "---" : "---:"))),
        ...rows.map(line),
    ];
}

/** 2026-12-01T08:30Z: the ISO time to the minute. */
const isoMinute = (t: number) => `${new Date(t * 1000).toISOString().slice(0, 16)}Z`;

export function renderMarkdown(r: Report): string {
    const out: string[] = [];
    out.push(
        `Task runs that ended between ${isoMinute(r.window.since)} and ${isoMinute(r.window.until)}, per task and delivery mode:`,
    );
    out.push("");
    out.push(
        ...markdownTable(
            ["task", "mode", ...COMPARISON_COLUMNS.map((c) => COMPARISON_HEADERS[c])],
            r.comparison.map((row) => [row.task, row.mode, ...COMPARISON_COLUMNS.map((c) => display(c, row.cells[c]))]),
        ),
    );
    out.push("");
    out.push("Ease of deployment (human actions, hands-on minutes) counts, per run:");
    for (const [mode, what] of Object.entries(EASE_OF_DEPLOYMENT)) out.push(`- ${mode}: ${what}.`);
    out.push("");
    out.push(
        "Scalability: the runs of deliver-several-models (the same delivery per mode at each level) by how many were started at once:",
    );
    out.push("");
    out.push(
        ...markdownTable(
            ["mode", "at once", ...SCALABILITY_COLUMNS.map((c) => SCALABILITY_HEADERS[c])],
            r.scalability.map((row) => [
                row.mode,
                row.concurrency,
                ...SCALABILITY_COLUMNS.map((c) => display(c, row.cells[c])),
            ]),
        ),
    );
    const notRun = [
        ...new Set(r.scalability.filter((row) => row.cells.leadTimeP50 === "not run").map((row) => row.concurrency)),
    ];
    if (notRun.length)
        out.push(
            "",
            `Not run: ${notRun.join(", ")} at once: the study behind these data did not deliver at ${notRun.length > 1 ? "those levels" : "that level"}.`,
        );
    out.push("");
    out.push("Model versions serving in that window:");
    out.push("");
    if (r.quality.length === 0) out.push("(no data: no model server exported metrics in the window)");
    else
        out.push(
            ...markdownTable(
                ["model", "version", "mode", ...QUALITY_COLUMNS.map((c) => QUALITY_HEADERS[c])],
                r.quality.map((row) => [
                    row.model,
                    row.version,
                    row.mode || "no data",
                    ...QUALITY_COLUMNS.map((c) => display(c, row.cells[c])),
                ]),
            ),
        );
    return out.join("\n") + "\n";
}

function csvCell(v: string): string {
    return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

const header = (c: ComparisonColumn | QualityColumn) => (UNITS[c] ? `${c}_${UNITS[c].replace(/-/g, "_")}` : c);

/** Three CSV tables separated by blank lines: task comparison, scalability, then per-version quality. */
export function renderCsv(r: Report): string {
    const lines = [
        ["task", "mode", ...COMPARISON_COLUMNS.map(header)].join(","),
        ...r.comparison.map((row) =>
            [row.task, row.mode, ...COMPARISON_COLUMNS.map((c) => String(row.cells[c]))].map(csvCell).join(","),
        ),
        "",
        ["mode", "concurrency", ...SCALABILITY_COLUMNS.map(header)].join(","),
        ...r.scalability.map((row) =>
            [row.mode, row.concurrency, ...SCALABILITY_COLUMNS.map((c) => String(row.cells[c]))].map(csvCell).join(","),
        ),
        "",
        ["model", "version", "mode", ...QUALITY_COLUMNS.map(header)].join(","),
        ...r.quality.map((row) =>
            [row.model, row.version, row.mode, ...QUALITY_COLUMNS.map((c) => String(row.cells[c]))]
                .map(csvCell)
                .join(","),
        ),
    ];
    return lines.join("\n") + "\n";
}

/**
 * JSON: numbers in the units of UNITS, null where there is no data, "n/a" where a column does not apply, "not run"
 * for a scalability level the study did not run.
 */
export function renderJson(r: Report): string {
    const cell = (c: Cell) => (c === "no data" ? null : c);
    const doc = {
        since: new Date(r.window.since * 1000).toISOString(),
        until: new Date(r.window.until * 1000).toISOString(),
        units: UNITS,
        comparison: r.comparison.map((row) => ({
            task: row.task,
            mode: row.mode,
            ...Object.fromEntries(COMPARISON_COLUMNS.map((c) => [c, cell(row.cells[c])])),
        })),
        scalability: r.scalability.map((row) => ({
            mode: row.mode,
            concurrency: Number(row.concurrency),
            ...Object.fromEntries(SCALABILITY_COLUMNS.map((c) => [c, cell(row.cells[c])])),
        })),
        quality: r.quality.map((row) => ({
            model: row.model,
            version: row.version,
            mode: row.mode || null,
            ...Object.fromEntries(QUALITY_COLUMNS.map((c) => [c, cell(row.cells[c])])),
        })),
    };
    return JSON.stringify(doc, null, 2) + "\n";
}

/** The text formats; html (tools/report/html.ts) renders charts, asynchronously. */
export function render(r: Report, format: Exclude<Format, "html">): string {
    return format === "csv" ? renderCsv(r) : format === "json" ? renderJson(r) : renderMarkdown(r);
}
