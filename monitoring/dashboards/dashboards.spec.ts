import * as assert from "node:assert/strict";
import { DASHBOARDS, DATASOURCE, renderDashboards } from ".";
import { CHARTS } from "../../contract/versions";
import {
    checkExpression,
    metricCatalog,
    metricNames,
    outputLabels,
    substituteGrafanaVariables,
} from "../../test/promql";
import { chartFactsOf } from "../../test/upstream-facts";

interface PanelJson {
    type: string;
    title?: string;
    description?: string;
    fieldConfig?: { defaults?: { unit?: string } };
    targets?: { expr?: string; legendFormat?: string }[];
    datasource?: { uid?: string };
}
interface VariableJson {
    name: string;
    type: string;
    multi?: boolean;
    definition?: string;
}
interface DashboardJson {
    uid: string;
    title: string;
    panels: PanelJson[];
    templating?: { list?: VariableJson[] };
}

const rendered = renderDashboards().map((d) => ({ ...d, model: JSON.parse(d.json) as DashboardJson }));
const panelsOf = (d: DashboardJson) => d.panels.filter((p) => p.type !== "row");

describe("dashboards", () => {
    it("has the five dashboards with unique uids", () => {
        assert.deepEqual(
            rendered.map((d) => d.title),
            [
                "Testbed overview",
                "GPU fleet (DCGM)",
                "Model versions side by side",
                "CI/CD pipelines",
                "Experiment comparison",
            ],
        );
        assert.equal(new Set(rendered.map((d) => d.uid)).size, DASHBOARDS.length);
        for (const d of rendered) assert.equal(d.model.uid, d.uid);
    });

    it("every panel has a title, a unit, a description and a query on the Prometheus datasource", () => {
        const problems: string[] = [];
        for (const d of rendered) {
            for (const p of panelsOf(d.model)) {
                const where = `${d.uid} / ${p.title ?? "(untitled)"}`;
                if (!p.title) problems.push(`${where}: no title`);
                if (!p.description) problems.push(`${where}: no description`);
                if (!p.fieldConfig?.defaults?.unit) problems.push(`${where}: no unit`);
                if (!p.targets?.length || p.targets.some((t) => !t.expr)) problems.push(`${where}: no query`);
                if (p.datasource?.uid !== DATASOURCE.uid) problems.push(`${where}: datasource ${p.datasource?.uid}`);
            }
        }
        assert.deepEqual(problems, []);
        assert.ok(
            rendered.every((d) => panelsOf(d.model).length >= 6),
            "each dashboard has at least six panels",
        );
    });

    it("queries the datasource uid kube-prometheus-stack provisions", () => {
        const { defaults } = chartFactsOf(CHARTS.kubePrometheusStack);
        assert.equal(defaults["grafana.sidecar.datasources.uid"], DATASOURCE.uid);
    });

    it("every query parses, type-checks and names only metrics the testbed exports", () => {
        const catalog = metricCatalog();
        const problems: string[] = [];
        for (const d of rendered) {
            for (const p of panelsOf(d.model)) {
                for (const t of p.targets ?? []) {
                    for (const msg of checkExpression(substituteGrafanaVariables(t.expr!), catalog))
                        problems.push(`${d.uid} / ${p.title}: ${msg}\n    ${t.expr}`);
                }
            }
            for (const v of d.model.templating?.list ?? []) {
                const m = /^label_values\((.+),\s*(\w+)\)$/.exec(v.definition ?? "");
                if (!m) {
                    problems.push(`${d.uid}: variable ${v.name} is not a label_values() query`);
                    continue;
                }
                for (const msg of checkExpression(substituteGrafanaVariables(m[1]), catalog))
                    problems.push(`${d.uid}: variable ${v.name}: ${msg}`);
            }
        }
        assert.deepEqual(problems, []);
    });

    it("every legend names only labels its query's result carries", () => {
        const catalog = metricCatalog();
        const problems: string[] = [];
        for (const d of rendered)
            for (const p of panelsOf(d.model))
                for (const t of p.targets ?? []) {
                    const labels = outputLabels(substituteGrafanaVariables(t.expr!), catalog);
                    assert.ok(labels, `${d.uid} / ${p.title}: the labels of ${t.expr} can be told`);
                    for (const [, l] of (t.legendFormat ?? "").matchAll(/\{\{\s*(\w+)\s*\}\}/g))
                        if (!labels.has(l)) problems.push(`${d.uid} / ${p.title}: legend {{${l}}} of ${t.expr}`);
                }
        assert.deepEqual(problems, []);
    });

    it("a misspelt metric in a dashboard query fails the check", () => {
        const problems = checkExpression(
            substituteGrafanaVariables(`sum by (node) (DCGM_FI_DEV_GPU_UTILIZATION{node=~"$node"})`),
            metricCatalog(),
        );
        assert.deepEqual(problems, ["metric DCGM_FI_DEV_GPU_UTILIZATION is exported by nothing the testbed deploys"]);
        assert.notDeepEqual(checkExpression("sum(rate(container_cpu_usage_seconds_total[5m]", metricCatalog()), []);
        assert.notDeepEqual(
            checkExpression("sum(container_cpu_usage_seconds_total[5m])", metricCatalog()),
            [],
            "a type error is reported",
        );
    });

    it("substitutes Grafana variables before parsing", () => {
        assert.equal(
            substituteGrafanaVariables(
                `rate(x{model="$model", version=~"\${versions:regex}"}[$__rate_interval]) > time() - $__range_s`,
            ),
            `rate(x{model="variable_value", version=~"variable_value"}[5m]) > time() - 3600`,
        );
        assert.deepEqual(metricNames(`label_replace(a, "m", "$1", "l", "(.+)") / on (x) {__name__="b"}`).sort(), [
            "a",
            "b",
        ]);
    });

    it("model versions dashboard compares the chosen versions of one model", () => {
        const d = rendered.find((x) => x.uid === "mlops-model-versions")!.model;
        const vars = Object.fromEntries((d.templating?.list ?? []).map((v) => [v.name, v]));
        assert.ok(vars.model && !vars.model.multi, "a single-valued model variable");
        assert.ok(vars.versions?.multi, "a multi-valued versions variable");
        for (const p of panelsOf(d))
            for (const t of p.targets ?? []) assert.match(t.expr!, /\$versions/, `${p.title} filters on $versions`);
    });

    it("experiment comparison and pipelines dashboards break results down by delivery mode", () => {
        for (const uid of ["mlops-experiments", "mlops-pipelines"]) {
            const d = rendered.find((x) => x.uid === uid)!.model;
            assert.ok(
                panelsOf(d).some((p) => p.targets?.some((t) => /mode/.test(t.expr!))),
                `${uid} has a per-mode panel`,
            );
        }
    });
});
