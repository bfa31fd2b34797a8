import type * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import { METRICS, RECORDED } from "../../contract/metric-contract";
import { barGauge, newDashboard, row, statPanel, timeSeries, type DashboardMeta } from "./panels";

export const PIPELINES: DashboardMeta = { uid: "mlops-pipelines", title: "CI/CD pipelines" };

const TEKTON = "tekton_pipelines_controller";

export function pipelinesDashboard(): dashboard.Dashboard {
    return newDashboard(
        PIPELINES,
        "Tekton runs (durations by pipeline and task, success rate, runs per day) and the delivery metrics the pipelines push: lead time by mode, stage durations, rollbacks.",
    )
        .withRow(row("Tekton"))
        .withPanel(
            statPanel({
                title: "Running PipelineRuns",
                unit: "short",
                description: "PipelineRuns running now (Tekton controller).",
                queries: [{ expr: `sum(${TEKTON}_running_pipelineruns)` }],
            }),
        )
        .withPanel(
            statPanel({
                title: "Running TaskRuns",
                unit: "short",
                description: "TaskRuns running now (Tekton controller).",
                queries: [{ expr: `sum(${TEKTON}_running_taskruns)` }],
            }),
        )
        .withPanel(
            statPanel({
                title: "TaskRuns throttled",
                unit: "short",
                description: "TaskRuns waiting because a ResourceQuota or node capacity blocks their pods.",
                queries: [
                    {
                        expr: `sum(${TEKTON}_running_taskruns_throttled_by_quota) + sum(${TEKTON}_running_taskruns_throttled_by_node)`,
                    },
                ],
            }),
        )
        .withPanel(
            statPanel({
                title: "Rollbacks in range",
                unit: "short",
                description: "Model versions rolled back during the selected time range (pushed by the rollback step).",
                queries: [{ expr: `count(${METRICS.lastRollback.name} > (time() - $__range_s)) or vector(0)` }],
            }),
        )
        .withPanel(
            timeSeries({
                title: "PipelineRun duration p95 by pipeline",
                unit: "s",
                description:
                    "95th percentile of PipelineRun durations over the last hour, per pipeline (needs Tekton's duration-type histogram).",
                queries: [
                    {
                        expr: `histogram_quantile(0.95, sum by (pipeline, le) (rate(${TEKTON}_pipelinerun_duration_seconds_bucket[1h])))`,
                        legend: "{{pipeline}}",
                    },
                ],
            }),
        )
        .withPanel(
            timeSeries({
                title: "TaskRun duration p95 by pipeline and task",
                unit: "s",
                description:
                    "95th percentile of TaskRun durations within PipelineRuns over the last hour, per pipeline and task.",
                queries: [
                    {
                        expr: `histogram_quantile(0.95, sum by (pipeline, task, le) (rate(${TEKTON}_pipelinerun_taskrun_duration_seconds_bucket[1h])))`,
                        legend: "{{pipeline}} / {{task}}",
                    },
                ],
            }),
        )
        .withPanel(
            timeSeries({
                title: "Success rate by pipeline",
                unit: "percentunit",
                description: "Share of PipelineRuns that succeeded over the last day, per pipeline.",
                queries: [{ expr: RECORDED.pipelineSuccess, legend: "{{pipeline}}" }],
                min: 0,
                max: 1,
            }),
        )
        .withPanel(
            timeSeries({
                title: "Runs per day by pipeline",
                unit: "short",
                description: "PipelineRuns finished over the last day, per pipeline.",
                queries: [{ expr: RECORDED.pipelineRunsPerDay, legend: "{{pipeline}}" }],
                min: 0,
            }),
        )
        .withRow(row("Delivery"))
        .withPanel(
            barGauge({
                title: "Deploy lead time by mode",
                unit: "s",
                description:
                    "Average time from trigger to serving of the model versions delivered in each mode (automated, simplified, manual).",
                queries: [{ expr: RECORDED.leadTimeByMode, legend: "{{mode}}" }],
            }),
        )
        .withPanel(
            barGauge({
                title: "Stage duration by stage",
                unit: "s",
                description:
                    "Average duration of each delivery stage (train, evaluate, build, deploy, ...) over the model versions delivered.",
                queries: [{ expr: `avg by (stage) (${METRICS.stageDuration.name})`, legend: "{{stage}}" }],
            }),
        )
        .build();
}
