import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { alertmanagerConfig, prometheusRuleManifests, RECEIVERS } from "../stack";
import { EVENT_LISTENER_URL } from "../../contract/names";
import { alertGroups, RETRAIN_LABEL, ruleExpressions } from ".";
import { alertThresholdsSchema, monitoringSchema } from "../../contract/config/monitoring";
import { PROJECT_ROOT } from "../../tools/stack";
import { checkExpression, metricCatalog, seriesProblems } from "../../test/promql";
import { promtool, writeRuleFiles } from "../../test/promtool";
import { schemaErrors } from "../../test/k8s-objects";

const DEFAULTS = alertThresholdsSchema.parse({});
const TEST_FILE = path.join(PROJECT_ROOT, "monitoring", "rules", "tests", "alerts.test.yaml");

describe("Prometheus rules", () => {
    let dir: string;
    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlops-rules-"));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("every expression parses, type-checks and names only exported metrics", () => {
        const catalog = metricCatalog();
        const problems = ruleExpressions(DEFAULTS).flatMap(({ where, expr }) =>
            checkExpression(expr, catalog).map((p) => `${where}: ${p}`),
        );
        assert.deepEqual(problems, []);
    });

    it("every rule group passes `promtool check rules`", () => {
        for (const file of writeRuleFiles(dir, DEFAULTS)) {
            const r = promtool(["check", "rules", file], dir);
            assert.equal(r.status, 0, `promtool check rules ${file}:\n${r.output}`);
        }
    });

    it("every alert passes its `promtool test rules` cases", () => {
        writeRuleFiles(dir, DEFAULTS);
        fs.copyFileSync(TEST_FILE, path.join(dir, "alerts.test.yaml"));
        const r = promtool(["test", "rules", "alerts.test.yaml"], dir);
        assert.equal(r.status, 0, `promtool test rules:\n${r.output}`);
    });

    it("every alert has a firing and a not-firing promtool case", () => {
        const doc = parse(fs.readFileSync(TEST_FILE, "utf8")) as {
            tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
        };
        const cases = doc.tests.flatMap((t) => t.alert_rule_test ?? []);
        for (const alert of alertGroups(DEFAULTS).flatMap((g) => g.rules.map((r) => r.alert))) {
            const mine = cases.filter((c) => c.alertname === alert);
            assert.ok(
                mine.some((c) => (c.exp_alerts ?? []).length > 0),
                `${alert} has no firing case in ${path.basename(TEST_FILE)}`,
            );
            assert.ok(
                mine.some((c) => (c.exp_alerts ?? []).length === 0),
                `${alert} has no not-firing case in ${path.basename(TEST_FILE)}`,
            );
        }
    });

    it("takes thresholds from config", () => {
        const t = alertThresholdsSchema.parse({
            accuracyMin: 0.77,
            driftMax: 0.42,
            latencyP95Seconds: 1.5,
            errorRatioMax: 0.02,
            quotaUsedRatio: 0.8,
            gpuIdleFor: "2h",
            pipelineFailuresPerHour: 3,
        });
        const byName = new Map(
            alertGroups(t)
                .flatMap((g) => g.rules)
                .map((r) => [r.alert, r]),
        );
        assert.match(byName.get("ModelAccuracyLow")!.expr, /< 0\.77$/);
        assert.match(byName.get("ModelDataDrift")!.expr, /> 0\.42$/);
        assert.match(byName.get("ModelLatencyHigh")!.expr, /> 1\.5$/);
        assert.match(byName.get("ModelErrorRateHigh")!.expr, /> 0\.02$/);
        assert.match(byName.get("ModelQuotaNearlyExhausted")!.expr, /> 0\.8$/);
        assert.match(byName.get("PipelineRunsFailing")!.expr, /> 3$/);
        assert.equal(byName.get("GpuNodeIdle")!.for, "2h");
    });

    it("labels drift and accuracy alerts for the retrain receiver, which posts to the EventListener", () => {
        const rules = alertGroups(DEFAULTS).flatMap((g) => g.rules);
        const retrain = rules
            .filter((r) => r.labels[RETRAIN_LABEL.key] === RETRAIN_LABEL.value)
            .map((r) => r.alert)
            .sort();
        assert.deepEqual(retrain, ["ModelAccuracyLow", "ModelDataDrift"]);
        const am = alertmanagerConfig();
        const route = am.route.routes.find((r) => r.receiver === RECEIVERS.retrain);
        assert.deepEqual(route?.matchers, [`${RETRAIN_LABEL.key}="${RETRAIN_LABEL.value}"`]);
        const receiver = am.receivers.find((r) => r.name === RECEIVERS.retrain);
        assert.equal(receiver?.webhook_configs?.[0].url, EVENT_LISTENER_URL);
    });

    it("PrometheusRule objects validate against the prometheus-operator CRD schema", async () => {
        const manifests = prometheusRuleManifests(monitoringSchema.parse({}));
        assert.equal(manifests.length, 2);
        for (const m of manifests) assert.equal(await schemaErrors(m), "");
    });

    it("a misspelt rule metric fails the check", () => {
        const problems = checkExpression("rate(mlops_model_request_total[5m])", metricCatalog());
        assert.deepEqual(problems, ["metric mlops_model_request_total is exported by nothing the testbed deploys"]);
    });

    it("a label the exporter does not emit fails the check (selector, by, on, group_left, label_replace)", () => {
        const catalog = metricCatalog();
        const one = (expr: string) => checkExpression(expr, catalog);
        // Tekton's run counter carries only `status` (the duration histogram's _count carries `pipeline`).
        assert.match(
            one("sum by (pipeline) (increase(tekton_pipelines_controller_pipelinerun_total[1d]))").join("\n"),
            /sum by \(pipeline\) uses label pipeline/,
        );
        assert.deepEqual(
            one("sum by (pipeline) (increase(tekton_pipelines_controller_pipelinerun_duration_seconds_count[1d]))"),
            [],
        );
        assert.match(one(`kube_resourcequota{phase="x"}`).join(), /uses label phase/);
        assert.match(
            one("kube_pod_info * on (pod) group_left (deployment) kube_pod_status_phase").join(),
            /group_left \(deployment\)/,
        );
        assert.match(
            one(`label_replace(node_load1, "x", "$1", "mode", "(.*)")`).join(),
            /label_replace source label uses label mode/,
        );
        // Labels flow through aggregations: after `sum by (node)` only `node` is left.
        assert.match(
            one("max by (gpu) (sum by (node) (DCGM_FI_DEV_GPU_UTIL))").join(),
            /max by \(gpu\) uses label gpu/,
        );
        assert.match(
            one(
                "histogram_quantile(0.9, sum by (pipeline) (rate(tekton_pipelines_controller_pipelinerun_duration_seconds_bucket[5m])))",
            ).join(),
            /uses label le/,
        );
    });

    it("the promtool test cases feed only series and labels the exporters really emit", () => {
        const catalog = metricCatalog();
        const cases = parse(fs.readFileSync(TEST_FILE, "utf8")) as { tests: { input_series: { series: string }[] }[] };
        const problems = cases.tests.flatMap((t) =>
            t.input_series.flatMap(({ series }) => {
                const m = /^([a-zA-Z_:][\w:]*)\{(.*)\}$/.exec(series);
                assert.ok(m, `series ${series} has the form name{labels}`);
                return seriesProblems(
                    m[1],
                    [...m[2].matchAll(/([a-zA-Z_]\w*)="/g)].map((l) => l[1]),
                    catalog,
                );
            }),
        );
        assert.deepEqual(problems, []);
    });
});
