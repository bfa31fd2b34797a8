/**
 * Offline PromQL checks: parse with @prometheus-io/lezer-promql, type-check with @prometheus-io/codemirror-promql,
 * and list the metric names an expression selects so they can be checked against what the testbed exports.
 */
import { ensureSyntaxTree, syntaxTree } from "@codemirror/language";
import { EditorState } from "@codemirror/state";
import { LanguageType, promQLLanguage } from "@prometheus-io/codemirror-promql";
// The type checker is not re-exported from the package root; this is the class its linter uses.
import { Parser as PromQLChecker } from "@prometheus-io/codemirror-promql/dist/cjs/parser/parser.js";
import type { LRParser } from "@lezer/lr";
import { contractSeriesNames, RECORDED } from "../contract/metric-contract";
import { dcgmMetricNames, tektonMetricNames } from "./reference";

// lezer-promql is an ES module with a CommonJS build; the tests run as CommonJS, so load that build explicitly.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { parser } = require("@prometheus-io/lezer-promql") as { parser: LRParser };

/** Values for Grafana's built-in variables, so a dashboard query is plain PromQL. */
const GRAFANA_BUILTINS: Record<string, string> = {
    __rate_interval: "5m",
    __interval: "1m",
    __range: "1h",
    __range_s: "3600",
    __range_ms: "3600000",
    __interval_ms: "60000",
};

/** Replaces Grafana variables ($__range, $model, ${versions:regex}) by plain values (`values`, else a placeholder). */
export function substituteGrafanaVariables(expr: string, values: Readonly<Record<string, string>> = {}): string {
    return expr.replace(
        /\$\{([A-Za-z_]\w*)(?::\w+)?\}|\$([A-Za-z_]\w*)/g,
        (_m, braced: string | undefined, bare: string | undefined) => {
            const name = (braced ?? bare)!;
            if (name.startsWith("__")) {
                const v = GRAFANA_BUILTINS[name];
                if (v === undefined) throw new Error(`unknown Grafana built-in variable $${name} in ${expr}`);
                return v;
            }
            return values[name] ?? "variable_value";
        },
    );
}

/** Syntax errors (lezer error nodes), as "at <offset>: <text>". */
export function syntaxErrors(expr: string): string[] {
    const errors: string[] = [];
    parser.parse(expr).iterate({
        enter(n) {
            if (n.type.isError)
                errors.push(
                    `syntax error at ${n.from}: ${JSON.stringify(expr.slice(Math.max(0, n.from - 10), n.to + 10))}`,
                );
        },
    });
    return errors;
}

/** Type errors (e.g. rate() over an instant vector) from codemirror-promql's checker. */
export function typeErrors(expr: string): string[] {
    let state = EditorState.create({ doc: expr, extensions: promQLLanguage(LanguageType.PromQL) });
    // CodeMirror parses within a small time budget; under load the tree can be partial, which the checker would
    // report as a bogus error. Finish the parse, then take it into a new state (an empty transaction does that).
    if (!ensureSyntaxTree(state, expr.length, 10_000)) throw new Error(`could not parse ${expr} within 10s`);
    state = state.update({}).state;
    if (syntaxTree(state).length !== expr.length) throw new Error(`partial parse tree for ${expr}`);
    const checker = new PromQLChecker(state);
    checker.analyze();
    return checker.getDiagnostics().map((d) => `${d.severity}: ${d.message}`);
}

/** Metric names an expression selects (identifiers of vector selectors and `__name__` matchers). */
export function metricNames(expr: string): string[] {
    const names = new Set<string>();
    const tree = parser.parse(expr);
    tree.iterate({
        enter(n) {
            if (n.name === "VectorSelector") {
                const id = n.node.getChild("Identifier");
                if (id) names.add(expr.slice(id.from, id.to));
            }
            if (n.name === "UnquotedLabelMatcher") {
                const label = n.node.getChild("LabelName");
                const value = n.node.getChild("StringLiteral");
                if (label && value && expr.slice(label.from, label.to) === "__name__")
                    names.add(expr.slice(value.from + 1, value.to - 1));
            }
        },
    });
    return [...names];
}

/** Names the exporters the testbed deploys are known to export, besides the reference lists. */
export const EXPORTER_METRICS = {
    "kube-state-metrics": [
        "kube_node_info",
        "kube_node_labels",
        "kube_node_status_capacity",
        "kube_node_status_allocatable",
        "kube_node_status_condition",
        "kube_namespace_labels",
        "kube_pod_info",
        "kube_pod_status_phase",
        "kube_pod_container_resource_requests",
        "kube_pod_container_resource_limits",
        "kube_pod_container_status_restarts_total",
        "kube_pod_container_status_waiting_reason",
        "kube_resourcequota",
        "kube_deployment_status_replicas_available",
    ],
    "node-exporter": [
        "node_cpu_seconds_total",
        "node_memory_MemAvailable_bytes",
        "node_memory_MemTotal_bytes",
        "node_filesystem_avail_bytes",
        "node_filesystem_size_bytes",
        "node_network_receive_bytes_total",
        "node_network_transmit_bytes_total",
        "node_load1",
    ],
    cadvisor: [
        "container_cpu_usage_seconds_total",
        "container_memory_working_set_bytes",
        "container_memory_rss",
        "container_network_receive_bytes_total",
        "container_network_transmit_bytes_total",
    ],
    kubelet: ["kubelet_running_pods", "kubelet_volume_stats_used_bytes", "kubelet_volume_stats_capacity_bytes"],
    prometheus: ["up", "scrape_duration_seconds"],
    pushgateway: ["push_time_seconds", "push_failure_time_seconds"],
} as const;

/** Every series name something the testbed deploys exports or records. */
export function metricCatalog(): Set<string> {
    return new Set<string>([
        ...dcgmMetricNames(),
        ...tektonMetricNames(),
        ...Object.values(EXPORTER_METRICS).flat(),
        ...contractSeriesNames(),
        ...Object.values(RECORDED),
    ]);
}

/** Every problem of one expression: syntax, types, and metric names nothing exports. */
export function checkExpression(expr: string, catalog: Set<string>): string[] {
    const syntax = syntaxErrors(expr);
    if (syntax.length > 0) return syntax;
    return [
        ...typeErrors(expr),
        ...metricNames(expr)
            .filter((m) => !catalog.has(m))
            .map((m) => `metric ${m} is exported by nothing the testbed deploys`),
    ];
}
