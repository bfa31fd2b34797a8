import * as assert from "node:assert/strict";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import {
    checkDashboardQueries,
    clusterExportersOf,
    dashboardQueries,
    describeOutcomes,
    substituteVariables,
} from "./dashboards";

describe("study: the dashboards' queries", () => {
    it("finds every panel query of every dashboard, each with its dashboard and panel title", () => {
        const qs = dashboardQueries();
        assert.ok(qs.length >= 50, `${qs.length} queries`);
        assert.deepEqual(
            [...new Set(qs.map((q) => q.dashboard))].length,
            5,
            "the five dashboards of monitoring/dashboards",
        );
        for (const q of qs)
            assert.ok(typeof q.panel === "string" && q.panel !== "" && q.expr.trim() !== "", JSON.stringify(q));
        // A query is named by the panel it is in (monitoring/dashboards: the overview's node count), not its target.
        assert.ok(
            qs.some(
                (q) => q.dashboard === "Testbed overview" && q.panel === "Nodes" && q.expr === "count(kube_node_info)",
            ),
        );
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
        assert.equal(
            substituteVariables('avg(DCGM_FI_DEV_GPU_UTIL{node=~"${node}"}) + $unknown', 60, "iris"),
            'avg(DCGM_FI_DEV_GPU_UTIL{node=~".*"}) + $unknown',
        );
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

    it("shows each query without data on one line: why, then its expression with spaces collapsed, cut at 140", () => {
        const base = { dashboard: "Testbed overview", panel: "CPU" };
        const long = `sum(${"a".repeat(150)})`;
        assert.deepEqual(
            describeOutcomes([
                {
                    ...base,
                    expr: "sum(\n  rate(container_cpu_usage_seconds_total[1m])\n) / sum(kube_node_info)",
                    series: 0,
                    needs: ["kube-state-metrics", "cAdvisor (kubelet)"],
                },
                { ...base, expr: "up{", series: 0, error: "parse error: unexpected end of input", needs: [] },
                { ...base, expr: long, series: 0, needs: [] },
            ]),
            [
                "dashboard queries: 0 of 3 return data on the local Prometheus",
                "  no data: Testbed overview / CPU: needs a cluster exporter (kube-state-metrics, cAdvisor (kubelet)) — " +
                    "sum( rate(container_cpu_usage_seconds_total[1m]) ) / sum(kube_node_info)",
                "  no data: Testbed overview / CPU: error parse error: unexpected end of input — up{",
                `  no data: Testbed overview / CPU: NO cluster exporter named: a gap of the study — sum(${"a".repeat(136)}`,
            ],
        );
    });

    describe("run against a Prometheus", function () {
        // A mutant that leaves a request or a child unanswered fails here rather than at the suite's minute.
        this.timeout(5000);
        let server: http.Server;
        let url: string;
        let requests: URL[];
        /** What the server answers, request by request; then success without series. */
        let answers: object[];
        beforeEach(async () => {
            requests = [];
            answers = [];
            server = http.createServer((req, res) => {
                requests.push(new URL(req.url!, "http://prometheus"));
                res.writeHead(200, { "content-type": "application/json" }).end(
                    JSON.stringify(answers.shift() ?? { status: "success", data: { result: [] } }),
                );
            });
            await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
            url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        });
        afterEach(async () => {
            await new Promise((r) => server.close(r));
        });

        it("runs every query as a range query over the window, 15 s steps, with the window as $__range", async () => {
            const since = new Date("2026-12-03T10:00:00Z");
            const until = new Date("2026-12-03T10:10:00Z");
            const outcomes = await checkDashboardQueries(url, since, until, "iris-b");
            const qs = dashboardQueries();
            assert.equal(requests.length, qs.length);
            assert.equal(outcomes.length, qs.length);
            for (const r of requests) {
                assert.equal(r.pathname, "/api/v1/query_range");
                assert.equal(r.searchParams.get("start"), "1796292000");
                assert.equal(r.searchParams.get("end"), "1796292600");
                assert.equal(r.searchParams.get("step"), "15");
            }
            const i = qs.findIndex((q) => q.expr.includes("$__range") && !q.expr.includes("$__range_s"));
            assert.ok(i >= 0, "a dashboard query over the whole range");
            assert.match(requests[i].searchParams.get("query")!, /\[600s\]/);
            assert.doesNotMatch(requests[i].searchParams.get("query")!, /\$/);
            const j = qs.findIndex((q) => q.expr.includes('model="$model"'));
            assert.match(requests[j].searchParams.get("query")!, /model="iris-b"/);
        });

        it("takes a window under a minute as a minute", async () => {
            const since = new Date("2026-12-03T10:00:00Z");
            await checkDashboardQueries(url, since, new Date("2026-12-03T10:00:10Z"), "iris");
            const i = dashboardQueries().findIndex(
                (q) => q.expr.includes("$__range") && !q.expr.includes("$__range_s"),
            );
            assert.match(requests[i].searchParams.get("query")!, /\[60s\]/);
        });

        it("counts each query's series, or keeps Prometheus' error, with the cluster exporters it needs", async () => {
            answers = [
                { status: "success", data: { result: [{}, {}] } },
                { status: "error", error: "query timed out" },
                { status: "error" },
                { status: "success" },
            ];
            const since = new Date("2026-12-03T10:00:00Z");
            const outcomes = await checkDashboardQueries(url, since, new Date("2026-12-03T10:10:00Z"), "iris");
            const qs = dashboardQueries();
            assert.deepEqual(
                outcomes.slice(0, 5).map(({ series, error }) => ({ series, error })),
                [
                    { series: 2, error: undefined },
                    { series: 0, error: "query timed out" },
                    { series: 0, error: "unknown error" },
                    { series: 0, error: undefined },
                    { series: 0, error: undefined },
                ],
            );
            assert.ok(!("error" in outcomes[0]) && !("error" in outcomes[3]));
            assert.deepEqual(
                { dashboard: outcomes[0].dashboard, panel: outcomes[0].panel, expr: outcomes[0].expr },
                qs[0],
            );
            // The overview's first query counts the nodes: kube-state-metrics' series.
            assert.equal(outcomes[0].expr, "count(kube_node_info)");
            assert.deepEqual(outcomes[0].needs, ["kube-state-metrics"]);
        });
    });
});
