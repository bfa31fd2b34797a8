/**
 * Offline PromQL checks: parse with @prometheus-io/lezer-promql, type-check with @prometheus-io/codemirror-promql,
 * and list the metric names an expression selects so they can be checked against what the testbed exports.
 */
import { ensureSyntaxTree, syntaxTree } from "@codemirror/language";
import { EditorState } from "@codemirror/state";
import { LanguageType, promQLLanguage } from "@prometheus-io/codemirror-promql";
// The type checker is not re-exported from the package root; this is the class its linter uses.
import { Parser as PromQLChecker } from "@prometheus-io/codemirror-promql/dist/cjs/parser/parser.js";
import type { SyntaxNode } from "@lezer/common";
import type { LRParser } from "@lezer/lr";
import { dcgmExporterValues } from "../monitoring/stack";
import { METRICS, NAMESPACE_LABELS, RECORDED, kubeStateLabel, type MetricSpec } from "../contract/metric-contract";
import { prometheusRuleSpecs } from "../monitoring/rules";
import { EXPORTERS } from "../contract/versions";
import { alertThresholdsSchema } from "../contract/config/monitoring";
import { metricFactsOf } from "./upstream-facts";

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

/** Labels Prometheus adds to what a ServiceMonitor scrapes (prometheus-operator's target relabelling). */
const SERVICE_MONITOR_TARGET = ["job", "instance", "namespace", "service", "pod", "container", "endpoint"];
/** ... and a PodMonitor (no Service). */
const POD_MONITOR_TARGET = ["job", "instance", "namespace", "pod", "container", "endpoint"];

/**
 * Labels each exporter's series carry once scraped as the project and kube-prometheus-stack 88.5.3 configure it:
 * - dcgm-exporter: honorLabels, the exporter's own namespace/pod/container dropped, `node` added
 *   (monitoring/stack.ts), plus the allowlisted pod labels of the GPU workload, sanitized;
 * - kube-state-metrics: honorLabels (the object's namespace wins); namespace labels allowlisted as `label_<key>`;
 * - the kubelet's ServiceMonitor (cAdvisor too): honorLabels, `node` from the endpoint, `metrics_path` (chart's
 *   cAdvisorRelabelings and relabelings defaults);
 * - the Pushgateway (honorLabels): a pushed series keeps the labels it was pushed with and the group's `job`.
 */
function scrapedLabels(): Record<keyof typeof EXPORTERS, readonly string[]> {
    const podLabels = dcgmExporterValues({
        nodeSelector: {},
        tolerations: [],
    } as never).kubernetes.podLabelAllowlistRegex.map((re) => re.replace(/^\^|\$$/g, "").replace(/\\\./g, "."));
    const sanitize = (k: string) => k.replace(/[^a-zA-Z0-9_]/g, "_");
    const dcgmPodLabels = podLabels.flatMap((re) => {
        const m = /^(.*)\((.*)\)(.*)$/.exec(re);
        return m ? m[2].split("|").map((alt) => sanitize(m[1] + alt + m[3])) : [sanitize(re)];
    });
    return {
        dcgmExporter: ["job", "instance", "service", "endpoint", "node", ...dcgmPodLabels],
        tektonPipelines: SERVICE_MONITOR_TARGET,
        kubeStateMetrics: [...SERVICE_MONITOR_TARGET, ...Object.values(NAMESPACE_LABELS).map(kubeStateLabel)],
        nodeExporter: SERVICE_MONITOR_TARGET,
        kubelet: [...SERVICE_MONITOR_TARGET, "node", "metrics_path"],
        prometheus: [...SERVICE_MONITOR_TARGET, "node", "metrics_path"],
        pushgateway: ["job", "instance"],
    };
}

/** Series name -> the labels it carries in Prometheus; `null` where they cannot be told (not checked). */
export type SeriesCatalog = Map<string, ReadonlySet<string> | null>;

/** Every series something the testbed deploys exports or records, with its labels. */
export function metricCatalog(): SeriesCatalog {
    const catalog: SeriesCatalog = new Map();
    const scraped = scrapedLabels();
    for (const key of Object.keys(EXPORTERS) as (keyof typeof EXPORTERS)[]) {
        for (const [name, labels] of Object.entries(metricFactsOf(key).series))
            catalog.set(name, new Set([...labels, ...scraped[key]]));
    }
    for (const m of Object.values(METRICS) as MetricSpec[]) {
        // Model servers are scraped by the PodMonitor; pipeline steps push to the Pushgateway (honorLabels).
        const target = m.source === "model-server" ? POD_MONITOR_TARGET : scraped.pushgateway;
        const labels = [...m.labels, ...target];
        const series =
            m.type === "histogram"
                ? [
                      [`${m.name}_bucket`, [...labels, "le"]],
                      [`${m.name}_sum`, labels],
                      [`${m.name}_count`, labels],
                  ]
                : [[m.name, labels]];
        for (const [name, l] of series as [string, string[]][]) catalog.set(name, new Set(l));
    }
    // Recorded series carry what their expression yields, in rule order (a rule may use an earlier one).
    for (const { record, expr } of recordingRules()) catalog.set(record, outputLabels(expr, catalog));
    for (const name of Object.values(RECORDED)) if (!catalog.has(name)) catalog.set(name, null);
    return catalog;
}

function recordingRules(): { record: string; expr: string }[] {
    return prometheusRuleSpecs(alertThresholdsSchema.parse({}))
        .flatMap((s) => s.groups.flatMap((g) => [...g.rules]))
        .flatMap((r) => ("record" in r ? [{ record: r.record, expr: r.expr }] : []));
}

type Labels = ReadonlySet<string> | "scalar" | null;

interface LabelCheck {
    readonly catalog: SeriesCatalog;
    readonly expr: string;
    readonly problems: string[];
}

const text = (c: LabelCheck, n: SyntaxNode) => c.expr.slice(n.from, n.to);
const unquote = (s: string) => s.slice(1, -1);
const exprChildren = (n: SyntaxNode) => {
    const out: SyntaxNode[] = [];
    for (let ch = n.firstChild; ch; ch = ch.nextSibling) if (EXPR_NODES.has(ch.name)) out.push(ch);
    return out;
};
const EXPR_NODES = new Set([
    "AggregateExpr",
    "BinaryExpr",
    "FunctionCall",
    "MatrixSelector",
    "NumberDurationLiteral",
    "OffsetExpr",
    "ParenExpr",
    "StringLiteral",
    "SubqueryExpr",
    "UnaryExpr",
    "VectorSelector",
    "StepInvariantExpr",
]);
const groupingLabels = (c: LabelCheck, n: SyntaxNode | null) =>
    n ? n.getChildren("LabelName").map((l) => text(c, l)) : [];

function need(c: LabelCheck, wanted: readonly string[], have: Labels, where: string) {
    if (have === null || have === "scalar") return;
    const missing = wanted.filter((l) => !have.has(l));
    if (missing.length > 0)
        c.problems.push(
            `${where} uses label ${missing.join(", ")}, which its input does not carry (it has ${[...have].sort().join(", ") || "none"})`,
        );
}

/** The labels an expression node yields, recording label uses its inputs cannot satisfy. */
function labelsOf(c: LabelCheck, n: SyntaxNode): Labels {
    switch (n.name) {
        case "PromQL":
        case "ParenExpr":
        case "OffsetExpr":
        case "SubqueryExpr":
        case "StepInvariantExpr":
        case "MatrixSelector":
        case "UnaryExpr": {
            const inner = exprChildren(n)[0];
            return inner ? labelsOf(c, inner) : null;
        }
        case "NumberDurationLiteral":
        case "StringLiteral":
            return "scalar";
        case "VectorSelector":
            return selectorLabels(c, n);
        case "FunctionCall":
            return functionLabels(c, n);
        case "AggregateExpr":
            return aggregateLabels(c, n);
        case "BinaryExpr":
            return binaryLabels(c, n);
        default:
            return null;
    }
}

function selectorLabels(c: LabelCheck, n: SyntaxNode): Labels {
    const id = n.getChild("Identifier");
    const matchers = n.getChild("LabelMatchers")?.getChildren("UnquotedLabelMatcher") ?? [];
    let name = id ? text(c, id) : undefined;
    const used: string[] = [];
    for (const m of matchers) {
        const label = text(c, m.getChild("LabelName")!);
        const value = m.getChild("StringLiteral");
        if (label === "__name__" && value && text(c, m.getChild("MatchOp")!) === "=") name = unquote(text(c, value));
        else if (label !== "__name__") used.push(label);
    }
    const labels = name === undefined ? null : (c.catalog.get(name) ?? null);
    if (labels) need(c, used, labels, `selector ${text(c, n)}`);
    return labels;
}

function functionLabels(c: LabelCheck, n: SyntaxNode): Labels {
    const fn = text(c, n.getChild("FunctionIdentifier")!);
    const args = exprChildren(n.getChild("FunctionCallBody")!);
    const argLabels = args.map((a) => labelsOf(c, a));
    const vector = argLabels.find((l) => l !== "scalar") ?? null;
    const str = (i: number) => (args[i]?.name === "StringLiteral" ? unquote(text(c, args[i])) : undefined);
    switch (fn) {
        case "time":
        case "scalar":
        case "pi":
            return "scalar";
        case "vector":
            return new Set();
        case "absent":
        case "absent_over_time":
            return null;
        case "histogram_quantile": {
            need(c, ["le"], argLabels[1], `histogram_quantile over ${text(c, args[1])}`);
            return vector === null ? null : new Set([...vector].filter((l) => l !== "le"));
        }
        case "label_replace": {
            const src = str(3);
            if (src) need(c, [src], argLabels[0], `label_replace source label`);
            const dst = str(1);
            return vector === null || !dst ? null : new Set([...vector, dst]);
        }
        case "label_join": {
            need(
                c,
                args.slice(3).map((_, i) => str(i + 3) ?? ""),
                argLabels[0],
                "label_join source label",
            );
            const dst = str(1);
            return vector === null || !dst ? null : new Set([...vector, dst]);
        }
        default:
            return vector;
    }
}

function aggregateLabels(c: LabelCheck, n: SyntaxNode): Labels {
    const op = text(c, n.getChild("AggregateOp")!);
    const args = exprChildren(n.getChild("FunctionCallBody")!);
    const input = labelsOf(c, args[args.length - 1]);
    const modifier = n.getChild("AggregateModifier");
    const grouping = groupingLabels(c, modifier?.getChild("GroupingLabels") ?? null);
    const without = modifier?.getChild("Without") !== null && modifier !== null;
    if (!without) need(c, grouping, input, `${op} by (${grouping.join(", ")})`);
    if (["topk", "bottomk", "limitk", "limit_ratio"].includes(op)) return input;
    if (input === null || input === "scalar") return null;
    const out = without ? [...input].filter((l) => !grouping.includes(l)) : grouping;
    if (op === "count_values" && args[0]?.name === "StringLiteral") out.push(unquote(text(c, args[0])));
    return new Set(out);
}

function binaryLabels(c: LabelCheck, n: SyntaxNode): Labels {
    const [lhs, rhs] = exprChildren(n);
    const left = labelsOf(c, lhs);
    const right = labelsOf(c, rhs);
    if (left === "scalar") return right;
    if (right === "scalar") return left;
    const clause = n.getChild("MatchingModifierClause");
    const op = text(c, n)
        .slice(lhs.to - n.from)
        .trimStart()
        .split(/\s/)[0];
    if (op === "or") return left === null || right === null ? null : new Set([...left, ...right]);
    if (!clause) return left;
    const lists = clause.getChildren("GroupingLabels").map((g) => groupingLabels(c, g));
    const matching = lists[0] ?? [];
    const on = clause.getChild("On") !== null;
    const groupLeft = clause.getChild("GroupLeft") !== null;
    const groupRight = clause.getChild("GroupRight") !== null;
    const extra = lists[1] ?? [];
    if (on) {
        need(c, matching, left, `on (${matching.join(", ")}) (left side)`);
        need(c, matching, right, `on (${matching.join(", ")}) (right side)`);
    }
    if (groupLeft) need(c, extra, right, `group_left (${extra.join(", ")})`);
    if (groupRight) need(c, extra, left, `group_right (${extra.join(", ")})`);
    if (["and", "unless"].includes(op)) return left;
    if (groupLeft) return left === null || right === null ? null : new Set([...left, ...extra]);
    if (groupRight) return left === null || right === null ? null : new Set([...right, ...extra]);
    if (left === null) return null;
    // One-to-one matching keeps only the `on` labels, or drops the `ignoring` ones (Prometheus' resultMetric).
    return new Set([...left].filter((l) => (on ? matching.includes(l) : !matching.includes(l))));
}

/** The labels an expression's result carries (null when they cannot be told from the catalog). */
export function outputLabels(expr: string, catalog: SeriesCatalog): ReadonlySet<string> | null {
    const c: LabelCheck = { catalog, expr, problems: [] };
    const labels = labelsOf(c, parser.parse(expr).topNode);
    return labels === "scalar" ? new Set() : labels;
}

/** Label uses an expression's inputs cannot satisfy (matchers, by/on/group_left/label_replace/histogram_quantile). */
export function labelProblems(expr: string, catalog: SeriesCatalog): string[] {
    const c: LabelCheck = { catalog, expr, problems: [] };
    labelsOf(c, parser.parse(expr).topNode);
    return c.problems;
}

/** A fixture series whose name nothing exports, or with a label its series does not carry. */
export function seriesProblems(name: string, labels: readonly string[], catalog: SeriesCatalog): string[] {
    if (!catalog.has(name)) return [`${name} is exported by nothing the testbed deploys`];
    const known = catalog.get(name);
    const extra = known ? labels.filter((l) => l !== "__name__" && !known.has(l)) : [];
    return extra.length > 0 ? [`${name} does not carry label ${extra.join(", ")}`] : [];
}

/** Every problem of one expression: syntax, types, metric names nothing exports, labels their series lack. */
export function checkExpression(expr: string, catalog: SeriesCatalog): string[] {
    const syntax = syntaxErrors(expr);
    if (syntax.length > 0) return syntax;
    return [
        ...typeErrors(expr),
        ...metricNames(expr)
            .filter((m) => !catalog.has(m))
            .map((m) => `metric ${m} is exported by nothing the testbed deploys`),
        ...labelProblems(expr, catalog),
    ];
}
