import * as assert from "node:assert/strict";
import { clusterExportersOf, dashboardQueries, describeOutcomes, substituteVariables } from "./dashboards";

describe("study: the dashboards' queries", () => {
    it("finds every panel query of every dashboard, each with its dashboard and panel title", () => {
        const qs = dashboardQueries();
        assert.ok(qs.length >= 50, `${qs.length} queries`);
        assert.deepEqual(
            [...new Set(qs.map((q) => q.dashboard))].length,
            5,
            "the five dashboards of monitoring/dashboards",
        );
        for (const q of qs) assert.ok(q.panel !== "" && q.expr.trim() !== "", JSON.stringify(q));
    });

    it("fills in Grafana's variables and leaves none in any query", () => {
        assert.equal(
            substituteVariables(
                'sum(rate(x{model="$model",version=~"$versions"}[$__rate_interval])) / $__range_s',
                600,
                "iris",
            ),
            'sum(rate(x{model="iris",version=~".*"}[1m])) / 600',
        );
        assert.equal(substituteVariables("increase(y[$__range])", 600, "iris"), "increase(y[600s])");
        for (const q of dashboardQueries())
            assert.doesNotMatch(substituteVariables(q.expr, 600, "iris"), /\$/, `${q.dashboard} / ${q.panel}`);
    });

    it("names the cluster exporter a query's series come from", () => {
        assert.deepEqual(clusterExportersOf("sum(kube_pod_status_phase)"), ["kube-state-metrics"]);
        assert.deepEqual(clusterExportersOf("rate(container_cpu_usage_seconds_total[1m])"), ["cAdvisor (kubelet)"]);
        assert.deepEqual(clusterExportersOf("avg(DCGM_FI_DEV_GPU_UTIL)"), ["DCGM exporter"]);
        assert.deepEqual(clusterExportersOf("sum(tekton_pipelines_controller_pipelinerun_duration_seconds_count)"), [
            "Tekton controller",
        ]);
        assert.deepEqual(clusterExportersOf("sum(mlops_delivery_result)"), []);
        // Through the program's recording rules: a recorded series reads what its rule reads.
        assert.deepEqual(clusterExportersOf("pipeline:mlops_tekton_pipelineruns:increase1d"), ["Tekton controller"]);
        assert.ok(clusterExportersOf("node_gpu:mlops_gpu_idle:bool").includes("DCGM exporter"));
        assert.deepEqual(clusterExportersOf("mode:mlops_deploy_lead_time_seconds:avg"), []);
    });

    it("lists a query without data with the exporter it needs, or as a gap of the study", () => {
        const base = { dashboard: "D", panel: "P" };
        const lines = describeOutcomes([
            { ...base, expr: "a", series: 1, needs: [] },
            { ...base, expr: "kube_x", series: 0, needs: ["kube-state-metrics"] },
            { ...base, expr: "mlops_y", series: 0, needs: [] },
        ]);
        assert.equal(lines[0], "dashboard queries: 1 of 3 return data on the local Prometheus");
        assert.match(lines[1], /no data: D \/ P: needs a cluster exporter \(kube-state-metrics\)/);
        assert.match(lines[2], /NO cluster exporter named: a gap of the study/);
    });
});
