/**
 * Every query of the rendered Grafana dashboards, run against the study's Prometheus over the study's window: which
 * return data here, and which cannot because their series come from an exporter this machine does not run (no
 * kubelet, so no cAdvisor; no kube-state-metrics, DCGM exporter or Tekton controller).
 */
import { alertThresholdsSchema } from "../../contract/config/monitoring";
import { renderDashboards } from "../../monitoring/dashboards";
import { recordingGroups } from "../../monitoring/rules";

/** One panel query of a dashboard. */
export interface DashboardQuery {
    readonly dashboard: string;
    readonly panel: string;
    readonly expr: string;
}

/** The exporters only a cluster runs, by the prefix of the series they export. */
const CLUSTER_EXPORTERS = [
    { prefix: /\bkube_/, exporter: "kube-state-metrics" },
    { prefix: /\bcontainer_/, exporter: "cAdvisor (kubelet)" },
    { prefix: /\bDCGM_/, exporter: "DCGM exporter" },
    { prefix: /\btekton_/, exporter: "Tekton controller" },
    { prefix: /\bnode_(?:cpu|memory)_/, exporter: "node-exporter" },
] as const;

/** The program's recording rules (default thresholds): a query of a recorded series reads what its rule reads. */
const RECORDED: ReadonlyMap<string, string> = new Map(
    recordingGroups(alertThresholdsSchema.parse({})).flatMap((g) => g.rules.map((r) => [r.record, r.expr] as const)),
);

/** `expr` with every recorded series it names replaced by its rule's expression, recursively. */
function expandRecorded(expr: string, depth = 0): string {
    if (depth > 5) return expr;
    let out = expr;
    for (const [name, rule] of RECORDED) if (out.includes(name)) out = `${out} ${expandRecorded(rule, depth + 1)}`;
    return out;
}

/** The cluster exporters whose series a query reads, through the recording rules (empty: all exist locally). */
export function clusterExportersOf(expr: string): string[] {
    const full = expandRecorded(expr);
    return CLUSTER_EXPORTERS.filter((e) => e.prefix.test(full)).map((e) => e.exporter);
}

/**
 * Grafana's variables for a window of `rangeSeconds`: `$__range` as the window, `$__rate_interval` as a minute (four
 * scrapes at Grafana's default and more than the study's 2 s), `$model` as `model`, multi-value variables as all.
 */
export function substituteVariables(expr: string, rangeSeconds: number, model: string): string {
    const values: Readonly<Record<string, string>> = {
        __range_s: String(rangeSeconds),
        __range: `${rangeSeconds}s`,
        __rate_interval: "1m",
        model,
        versions: ".*",
        node: ".*",
    };
    return expr.replace(/\$\{?(\w+)\}?/g, (whole, name: string) => values[name] ?? whole);
}

/** Every panel query of every rendered dashboard, in order. */
export function dashboardQueries(): DashboardQuery[] {
    const out: DashboardQuery[] = [];
    for (const d of renderDashboards()) {
        const json = JSON.parse(d.json) as { title: string; panels?: unknown[] };
        const walk = (node: unknown, panel: string): void => {
            if (Array.isArray(node)) for (const n of node) walk(n, panel);
            else if (node && typeof node === "object") {
                const o = node as Record<string, unknown>;
                const title = typeof o.title === "string" && "type" in o ? o.title : panel;
                if (typeof o.expr === "string") out.push({ dashboard: json.title, panel: title, expr: o.expr });
                for (const v of Object.values(o)) walk(v, title);
            }
        };
        walk(json.panels ?? [], "");
    }
    return out;
}

/** What each query returned over the window: series count, or the error Prometheus gave. */
export interface QueryOutcome extends DashboardQuery {
    readonly series: number;
    readonly error?: string;
    /** Exporters only a cluster runs that the query reads. */
    readonly needs: string[];
}

/** Runs every dashboard query as a range query over [since, until] against `prometheusUrl`. */
export async function checkDashboardQueries(
    prometheusUrl: string,
    since: Date,
    until: Date,
    model: string,
): Promise<QueryOutcome[]> {
    const rangeSeconds = Math.max(60, Math.round((until.getTime() - since.getTime()) / 1000));
    const out: QueryOutcome[] = [];
    for (const q of dashboardQueries()) {
        const query = substituteVariables(q.expr, rangeSeconds, model);
        const url = new URL("/api/v1/query_range", prometheusUrl);
        url.search = new URLSearchParams({
            query,
            start: String(since.getTime() / 1000),
            end: String(until.getTime() / 1000),
            step: "15",
        }).toString();
        const body = (await (await fetch(url)).json()) as { status: string; error?: string; data?: { result: [] } };
        out.push({
            ...q,
            series: body.status === "success" ? (body.data?.result.length ?? 0) : 0,
            ...(body.status === "success" ? {} : { error: body.error ?? "unknown error" }),
            needs: clusterExportersOf(q.expr),
        });
    }
    return out;
}

/** The lines the study prints: a summary, then each query without data and why. */
export function describeOutcomes(outcomes: readonly QueryOutcome[]): string[] {
    const withData = outcomes.filter((o) => o.series > 0).length;
    const lines = [`dashboard queries: ${withData} of ${outcomes.length} return data on the local Prometheus`];
    for (const o of outcomes.filter((x) => x.series === 0))
        lines.push(
            `  no data: ${o.dashboard} / ${o.panel}: ` +
                (o.error
                    ? `error ${o.error}`
                    : o.needs.length > 0
                      ? `needs a cluster exporter (${o.needs.join(", ")})`
                      : "NO cluster exporter named: a gap of the study") +
                ` — ${o.expr.replace(/\s+/g, " ").slice(0, 140)}`,
        );
    return lines;
}
