/**
 * The study report's query logic, pure: the PromQL for each cell, and the tables built from query results.
 * tools/report.ts runs the queries against Prometheus and prints the tables.
 *
 * Each run of a standardized task pushes per-run gauges (labels mode, task, run). A run counts when its end
 * timestamp (mlops_delivery_end_timestamp_seconds) lies in the window; each gauge is first reduced to one value
 * per run (lead time: max over the versions it delivered, outcome: min, resources and rollbacks: sum), then
 * aggregated per task and mode. The scalability table aggregates the per-run values of one task (SCALABILITY_TASK: the
 * same delivery at every level) per mode and concurrency (how many deliveries were started at once, a label of every
 * per-run sample).
 */
import { CONCURRENCY_LEVELS, DELIVERY_MODES, METRICS, type DeliveryMode } from "../../contract/metric-contract";
import { SCALABILITY_TASK, STUDY_TASKS } from "../../contract/study-tasks";

/** The reporting window, as Unix seconds. */
export interface Window {
    readonly since: number;
    readonly until: number;
}

const RUN = "task, mode, run";
const TASK_MODE = "task, mode";

function range(w: Window): string {
    const seconds = Math.round(w.until - w.since);
    if (!(seconds > 0)) throw new Error(`empty window: since ${w.since} is not before until ${w.until}`);
    return `${seconds}s`;
}

/** A per-run gauge's last value in the window, for runs that ended in the window. */
export function runSeries(metric: string, w: Window): string {
    const r = range(w);
    return `(last_over_time(${metric}[${r}]) and on (${RUN}) (last_over_time(${METRICS.deliveryEnd.name}[${r}]) >= ${Math.floor(w.since)}))`;
}

/** One value per run: `reduce by (task, mode, run)` over the versions a run delivered, keeping `extra` labels. */
function perRun(reduce: "max" | "min" | "sum", metric: string, w: Window, extra = ""): string {
    return `${reduce} by (${RUN}${extra}) (${runSeries(metric, w)})`;
}

export const COMPARISON_COLUMNS = [
    "runs",
    "leadTimeP50",
    "leadTimeP95",
    "failureRate",
    "rollbacks",
    "timeToRecoverP50",
    "accuracyReached",
    "humanActionsPerRun",
    "handsOnMinutesPerRun",
    "cpuHoursPerRun",
    "gpuHoursPerRun",
    "memoryGibHoursPerRun",
] as const;
export type ComparisonColumn = (typeof COMPARISON_COLUMNS)[number];

/** The query behind each column of the comparison table; every result is a vector by (task, mode). */
export function comparisonQueries(w: Window): Record<ComparisonColumn, string> {
    const r = range(w);
    const lead = perRun("max", METRICS.deployLeadTime.name, w);
    const avgPerRun = (metric: string, divisor: number) =>
        `avg by (${TASK_MODE}) (${perRun("sum", metric, w)}) / ${divisor}`;
    return {
        runs: `count by (${TASK_MODE}) (${perRun("min", METRICS.deliveryResult.name, w)})`,
        leadTimeP50: `quantile by (${TASK_MODE}) (0.5, ${lead})`,
        leadTimeP95: `quantile by (${TASK_MODE}) (0.95, ${lead})`,
        failureRate: `1 - avg by (${TASK_MODE}) (${perRun("min", METRICS.deliveryResult.name, w)})`,
        rollbacks: `sum by (${TASK_MODE}) (${perRun("sum", METRICS.deliveryRollbacks.name, w)})`,
        timeToRecoverP50: `quantile by (${TASK_MODE}) (0.5, ${perRun("max", METRICS.recoveryTime.name, w)})`,
        // Evaluation accuracy of the versions that successful runs delivered (by model, version and mode).
        accuracyReached:
            `avg by (${TASK_MODE}) (((${runSeries(METRICS.deliveryResult.name, w)}) == 1) * 0 + on (model, version, mode) group_left () ` +
            `max by (model, version, mode) (last_over_time(${METRICS.evaluationAccuracy.name}[${r}])))`,
        // Ease of deployment: what a person did per run.
        humanActionsPerRun: avgPerRun(METRICS.deliveryHumanActions.name, 1),
        handsOnMinutesPerRun: avgPerRun(METRICS.deliveryHandsOnSeconds.name, 60),
        cpuHoursPerRun: avgPerRun(METRICS.deliveryCpuSeconds.name, 3600),
        gpuHoursPerRun: avgPerRun(METRICS.deliveryGpuSeconds.name, 3600),
        memoryGibHoursPerRun: avgPerRun(METRICS.deliveryMemoryByteSeconds.name, 3600 * 1024 ** 3),
    };
}

export const SCALABILITY_COLUMNS = ["runs", "leadTimeP50", "leadTimeP95", "failureRate"] as const;
export type ScalabilityColumn = (typeof SCALABILITY_COLUMNS)[number];

const MODE_CONCURRENCY = "mode, concurrency";

/**
 * The query behind each column of the scalability table, over the runs of SCALABILITY_TASK; every result is a vector
 * by (mode, concurrency).
 */
export function scalabilityQueries(w: Window): Record<ScalabilityColumn, string> {
    const keep = ", concurrency";
    const ofTask = (metric: string) => `${metric}{task="${SCALABILITY_TASK}"}`;
    const lead = perRun("max", ofTask(METRICS.deployLeadTime.name), w, keep);
    const result = perRun("min", ofTask(METRICS.deliveryResult.name), w, keep);
    return {
        runs: `count by (${MODE_CONCURRENCY}) (${result})`,
        leadTimeP50: `quantile by (${MODE_CONCURRENCY}) (0.5, ${lead})`,
        leadTimeP95: `quantile by (${MODE_CONCURRENCY}) (0.95, ${lead})`,
        failureRate: `1 - avg by (${MODE_CONCURRENCY}) (${result})`,
    };
}

export const QUALITY_COLUMNS = ["accuracy", "latencyP95", "errorRate", "drift"] as const;
export type QualityColumn = (typeof QUALITY_COLUMNS)[number];

/** The query behind each column of the per-version quality table; every result is a vector by (model, version). */
export function qualityQueries(w: Window): Record<QualityColumn | "deliveredBy", string> {
    const r = range(w);
    const MV = "model, version";
    return {
        accuracy: `avg by (${MV}) (last_over_time(${METRICS.predictionAccuracy.name}[${r}]))`,
        latencyP95: `histogram_quantile(0.95, sum by (${MV}, le) (increase(${METRICS.requestDuration.name}_bucket[${r}])))`,
        errorRate: `sum by (${MV}) (increase(${METRICS.requestErrors.name}[${r}])) / (sum by (${MV}) (increase(${METRICS.requests.name}[${r}])) > 0)`,
        drift: `max by (${MV}) (max_over_time(${METRICS.dataDrift.name}[${r}]))`,
        // The mode(s) that delivered each version (a vector by model, version, mode).
        deliveredBy: `group by (${MV}, mode) (last_over_time(${METRICS.deliveryResult.name}[${r}]))`,
    };
}

/** One sample of an instant-vector result, as Prometheus' HTTP API returns it. */
export interface VectorSample {
    readonly metric: Readonly<Record<string, string>>;
    readonly value: readonly [number, string];
}

/**
 * A table cell: a number, no data for it in the window, not applicable to the task, or (scalability) a concurrency
 * level the study that produced the data did not run.
 */
export type Cell = number | "no data" | "n/a" | "not run";

export interface ComparisonRow {
    readonly task: string;
    readonly mode: string;
    readonly cells: Readonly<Record<ComparisonColumn, Cell>>;
}

export interface ScalabilityRow {
    readonly mode: string;
    /** Deliveries started at once. */
    readonly concurrency: string;
    readonly cells: Readonly<Record<ScalabilityColumn, Cell>>;
}

export interface QualityRow {
    readonly model: string;
    readonly version: string;
    /** Modes that delivered the version ("" when none pushed a run for it). */
    readonly mode: string;
    readonly cells: Readonly<Record<QualityColumn, Cell>>;
}

function sampleValue(s: VectorSample): number | undefined {
    const v = Number(s.value[1]);
    return Number.isFinite(v) ? v : undefined;
}

function index(samples: readonly VectorSample[], keys: readonly string[]): Map<string, number> {
    const out = new Map<string, number>();
    for (const s of samples) {
        const v = sampleValue(s);
        if (v !== undefined) out.set(keys.map((k) => s.metric[k] ?? "").join("\u0000"), v);
    }
    return out;
}

/**
 * The comparison table: one row per standardized task and mode (in the order of STUDY_TASKS and DELIVERY_MODES),
 * then rows for tasks or modes found in the data that the study does not define.
 */
export function comparisonTable(results: Readonly<Record<ComparisonColumn, readonly VectorSample[]>>): ComparisonRow[] {
    const byColumn = Object.fromEntries(
        COMPARISON_COLUMNS.map((c) => [c, index(results[c], ["task", "mode"])]),
    ) as Record<ComparisonColumn, Map<string, number>>;
    const pairs: [string, string][] = STUDY_TASKS.flatMap((t) =>
        DELIVERY_MODES.map((m): [string, string] => [t.id, m]),
    );
    const known = new Set(pairs.map(([t, m]) => `${t}\u0000${m}`));
    const extra = [...new Set(COMPARISON_COLUMNS.flatMap((c) => [...byColumn[c].keys()]))]
        .filter((k) => !known.has(k))
        .sort();
    for (const k of extra) pairs.push(k.split("\u0000") as [string, string]);
    return pairs.map(([task, mode]) => {
        const key = `${task}\u0000${mode}`;
        const def = STUDY_TASKS.find((t) => t.id === task);
        const runs = byColumn.runs.get(key) ?? 0;
        const cells = Object.fromEntries(
            COMPARISON_COLUMNS.map((c): [ComparisonColumn, Cell] => {
                if (c === "runs") return [c, runs];
                if (c === "timeToRecoverP50" && def && !def.recovers) return [c, "n/a"];
                return [c, runs > 0 ? (byColumn[c].get(key) ?? "no data") : "no data"];
            }),
        ) as Record<ComparisonColumn, Cell>;
        return { task, mode, cells };
    });
}

/**
 * The scalability table: one row per mode and concurrency level of the study (CONCURRENCY_LEVELS), then any other
 * level found in the data, in numeric order. With `levelsRun` (the levels the study that produced the data ran, e.g.
 * the short study's), a level outside it without runs says "not run" instead of "no data".
 */
export function scalabilityTable(
    results: Readonly<Record<ScalabilityColumn, readonly VectorSample[]>>,
    levelsRun?: readonly number[],
): ScalabilityRow[] {
    const byColumn = Object.fromEntries(
        SCALABILITY_COLUMNS.map((c) => [c, index(results[c], ["mode", "concurrency"])]),
    ) as Record<ScalabilityColumn, Map<string, number>>;
    const levels = new Set<string>(CONCURRENCY_LEVELS.map(String));
    const modes = new Set<string>(DELIVERY_MODES);
    for (const k of SCALABILITY_COLUMNS.flatMap((c) => [...byColumn[c].keys()])) {
        const [mode, level] = k.split("\u0000");
        modes.add(mode);
        levels.add(level);
    }
    const sortedLevels = [...levels].sort((a, b) => Number(a) - Number(b) || a.localeCompare(b));
    return [...modes].flatMap((mode) =>
        sortedLevels.map((concurrency) => {
            const key = `${mode}\u0000${concurrency}`;
            const runs = byColumn.runs.get(key) ?? 0;
            const empty: Cell = levelsRun && !levelsRun.includes(Number(concurrency)) ? "not run" : "no data";
            const cells = Object.fromEntries(
                SCALABILITY_COLUMNS.map((c): [ScalabilityColumn, Cell] => [
                    c,
                    c === "runs" ? runs : runs > 0 ? (byColumn[c].get(key) ?? "no data") : empty,
                ]),
            ) as Record<ScalabilityColumn, Cell>;
            return { mode, concurrency, cells };
        }),
    );
}

/** The per-version quality table: one row per model version with any quality figure, sorted by model and version. */
export function qualityTable(
    results: Readonly<Record<QualityColumn | "deliveredBy", readonly VectorSample[]>>,
): QualityRow[] {
    const byColumn = Object.fromEntries(
        QUALITY_COLUMNS.map((c) => [c, index(results[c], ["model", "version"])]),
    ) as Record<QualityColumn, Map<string, number>>;
    const modes = new Map<string, string[]>();
    for (const s of results.deliveredBy) {
        const key = `${s.metric.model ?? ""}\u0000${s.metric.version ?? ""}`;
        modes.set(key, [...(modes.get(key) ?? []), s.metric.mode ?? ""]);
    }
    const order = (m: string) => (DELIVERY_MODES as readonly string[]).indexOf(m);
    const keys = [...new Set(QUALITY_COLUMNS.flatMap((c) => [...byColumn[c].keys()]))].sort((a, b) =>
        a.localeCompare(b, "en", { numeric: true }),
    );
    return keys.map((key) => {
        const [model, version] = key.split("\u0000");
        const mode = (modes.get(key) ?? []).sort((a, b) => order(a) - order(b)).join("+");
        const cells = Object.fromEntries(
            QUALITY_COLUMNS.map((c): [QualityColumn, Cell] => [c, byColumn[c].get(key) ?? "no data"]),
        ) as Record<QualityColumn, Cell>;
        return { model, version, mode, cells };
    });
}

export type { DeliveryMode };
