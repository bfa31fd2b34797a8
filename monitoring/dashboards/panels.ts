/**
 * Small helpers over @grafana/grafana-foundation-sdk so every panel is built the same way: a title, a unit and a
 * description are required arguments, every query uses the stack's Prometheus datasource.
 */
import type * as cog from "@grafana/grafana-foundation-sdk/cog";
import * as bargauge from "@grafana/grafana-foundation-sdk/bargauge";
import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import * as prometheus from "@grafana/grafana-foundation-sdk/prometheus";
import * as stat from "@grafana/grafana-foundation-sdk/stat";
import * as timeseries from "@grafana/grafana-foundation-sdk/timeseries";

/** The Prometheus datasource kube-prometheus-stack provisions (`grafana.sidecar.datasources.uid`). */
export const DATASOURCE = { type: "prometheus", uid: "prometheus" } as const;

/** Folder the Grafana sidecar files our dashboards into. */
export const DASHBOARD_FOLDER = "MLOps Testbed";

export interface Query {
    readonly expr: string;
    /** Legend, e.g. "{{version}} p95". */
    readonly legend?: string;
}

export interface PanelSpec {
    readonly title: string;
    /** A Grafana unit id: s, percent, percentunit, bytes, mbytes, reqps, short, watt, celsius, h, none, ... */
    readonly unit: string;
    readonly description: string;
    readonly queries: readonly Query[];
    /** Width in grid columns (24 is the full width). */
    readonly width?: number;
    readonly height?: number;
    readonly min?: number;
    readonly max?: number;
}

function targets(queries: readonly Query[], instant = false): cog.Builder<cog.Dataquery>[] {
    return queries.map((q, i) => {
        const b = new prometheus.DataqueryBuilder()
            .datasource(DATASOURCE)
            .expr(q.expr)
            .refId(String.fromCharCode(65 + i))
            .legendFormat(q.legend ?? "__auto");
        return instant ? b.instant() : b.range();
    });
}

function common<
    B extends {
        title(t: string): B;
        unit(u: string): B;
        description(d: string): B;
        datasource(d: typeof DATASOURCE): B;
        span(w: number): B;
        height(h: number): B;
        min(n: number): B;
        max(n: number): B;
    },
>(b: B, p: PanelSpec, defaults: { w: number; h: number }): B {
    let out = b
        .title(p.title)
        .unit(p.unit)
        .description(p.description)
        .datasource(DATASOURCE)
        .span(p.width ?? defaults.w)
        .height(p.height ?? defaults.h);
    if (p.min !== undefined) out = out.min(p.min);
    if (p.max !== undefined) out = out.max(p.max);
    return out;
}

export function timeSeries(p: PanelSpec): timeseries.PanelBuilder {
    return common(new timeseries.PanelBuilder(), p, { w: 12, h: 8 }).targets(targets(p.queries));
}

export function statPanel(p: PanelSpec): stat.PanelBuilder {
    return common(new stat.PanelBuilder(), p, { w: 6, h: 4 }).targets(targets(p.queries, true));
}

export function barGauge(p: PanelSpec): bargauge.PanelBuilder {
    return common(new bargauge.PanelBuilder(), p, { w: 12, h: 8 }).targets(targets(p.queries, true));
}

export function row(title: string): dashboard.RowBuilder {
    return new dashboard.RowBuilder(title);
}

/** A query variable over label values (Grafana's `label_values(<selector>, <label>)`). */
export function labelVariable(
    name: string,
    label: string,
    selector: string,
    opts: { multi?: boolean; description: string },
): dashboard.QueryVariableBuilder {
    const query = `label_values(${selector}, ${label})`;
    const v = new dashboard.QueryVariableBuilder(name)
        .label(name)
        .description(opts.description)
        .datasource(DATASOURCE)
        .query({ qryType: 1, query, refId: "PrometheusVariableQueryEditor-VariableQuery" })
        .definition(query)
        .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
        .sort(dashboard.VariableSort.AlphabeticalAsc);
    return opts.multi ? v.multi(true).includeAll(true).allValue(".*") : v;
}

export interface DashboardMeta {
    readonly uid: string;
    readonly title: string;
}

/** A dashboard builder with the settings every testbed dashboard shares. */
export function newDashboard(meta: DashboardMeta, description: string): dashboard.DashboardBuilder {
    return new dashboard.DashboardBuilder(meta.title)
        .uid(meta.uid)
        .description(description)
        .tags(["mlops-testbed"])
        .editable()
        .timezone("browser")
        .refresh("1m")
        .time({ from: "now-6h", to: "now" })
        .tooltip(dashboard.DashboardCursorSync.Crosshair);
}
