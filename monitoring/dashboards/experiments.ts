import type * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import { METRICS, RECORDED } from "../../contract/metric-contract";
import { barGauge, newDashboard, row, timeSeries, type DashboardMeta } from "./panels";

export const EXPERIMENTS: DashboardMeta = { uid: "mlops-experiments", title: "Experiment comparison" };

export function experimentsDashboard(): dashboard.Dashboard {
    return newDashboard(
        EXPERIMENTS,
        "Automated vs simplified vs manual delivery: lead time, failure rate, resources used and resulting model quality, from the metrics every delivery pushes with its mode label.",
    )
        .withRow(row("Speed and reliability"))
        .withPanel(
            barGauge({
                title: "Mean lead time by mode",
                unit: "s",
                description: "Average time from trigger to serving per delivery mode.",
                queries: [{ expr: RECORDED.leadTimeByMode, legend: "{{mode}}" }],
                width: 8,
            }),
        )
        .withPanel(
            barGauge({
                title: "Failure rate by mode",
                unit: "percentunit",
                description: "Share of deliveries whose last attempt failed, per mode.",
                queries: [{ expr: RECORDED.failureRatioByMode, legend: "{{mode}}" }],
                width: 8,
                min: 0,
                max: 1,
            }),
        )
        .withPanel(
            barGauge({
                title: "Task runs by mode",
                unit: "short",
                description:
                    "Runs of the standardized tasks in each mode (the sample size behind the other panels); `npm run report` breaks them down by task.",
                queries: [
                    {
                        expr: `count by (mode) (count by (mode, run) (${METRICS.deliveryResult.name}))`,
                        legend: "{{mode}}",
                    },
                ],
                width: 8,
            }),
        )
        .withPanel(
            timeSeries({
                title: "Lead time per task run",
                unit: "s",
                description: "Lead time of each run of a standardized task, labelled with its task and mode.",
                queries: [
                    {
                        expr: `max by (task, mode, run) (${METRICS.deployLeadTime.name})`,
                        legend: "{{mode}} {{task}} {{run}}",
                    },
                ],
                width: 24,
            }),
        )
        .withRow(row("Resources"))
        .withPanel(
            barGauge({
                title: "CPU-seconds per delivery by mode",
                unit: "s",
                description: "Average CPU-seconds one delivery used, over all its stages, per mode.",
                queries: [{ expr: RECORDED.cpuSecondsByMode, legend: "{{mode}}" }],
                width: 8,
            }),
        )
        .withPanel(
            barGauge({
                title: "GPU-seconds per delivery by mode",
                unit: "s",
                description: "Average GPU-seconds (GPUs held x seconds) one delivery used, per mode.",
                queries: [{ expr: RECORDED.gpuSecondsByMode, legend: "{{mode}}" }],
                width: 8,
            }),
        )
        .withPanel(
            barGauge({
                title: "Stage duration by mode",
                unit: "s",
                description: "Average duration of each stage per mode: where automation saves (or costs) time.",
                queries: [
                    { expr: `avg by (mode, stage) (${METRICS.stageDuration.name})`, legend: "{{mode}} {{stage}}" },
                ],
                width: 8,
            }),
        )
        .withRow(row("Quality"))
        .withPanel(
            barGauge({
                title: "Evaluation accuracy by mode",
                unit: "percentunit",
                description:
                    "Average held-out accuracy of the versions delivered in each mode: faster must not mean worse.",
                queries: [{ expr: `avg by (mode) (${METRICS.evaluationAccuracy.name})`, legend: "{{mode}}" }],
                min: 0,
                max: 1,
            }),
        )
        .withPanel(
            barGauge({
                title: "Live accuracy by mode",
                unit: "percentunit",
                description:
                    "Average live accuracy against labelled feedback of serving versions, grouped by the mode that delivered them.",
                queries: [
                    {
                        expr: `avg by (mode) (${METRICS.predictionAccuracy.name} * on (model, version) group_left (mode) max by (model, version, mode) (${METRICS.deliveryResult.name}))`,
                        legend: "{{mode}}",
                    },
                ],
                min: 0,
                max: 1,
            }),
        )
        .build();
}
