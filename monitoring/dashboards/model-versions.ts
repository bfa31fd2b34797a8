import type * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import { METRICS, RECORDED } from "../../contract/metric-contract";
import { withModelVersion } from "../rules";
import { labelVariable, newDashboard, row, timeSeries, type DashboardMeta } from "./panels";

export const MODEL_VERSIONS: DashboardMeta = { uid: "mlops-model-versions", title: "Model versions side by side" };

/** Selector for the chosen model and versions. */
const MV = `{model="$model", version=~"$versions"}`;
const byVersion = (expr: string) => withModelVersion(expr, MV);

export function modelVersionsDashboard(): dashboard.Dashboard {
    const quota = (resource: string) => `max by (namespace) (kube_resourcequota{type="hard", resource="${resource}"})`;
    return newDashboard(
        MODEL_VERSIONS,
        "Compare versions of one model: traffic, latency, errors, accuracy against labelled feedback, drift, and the resources each version's namespace uses against its quota.",
    )
        .withVariable(
            labelVariable("model", "model", METRICS.requests.name, { description: "Model to compare versions of." }),
        )
        .withVariable(
            labelVariable("versions", "version", `${METRICS.requests.name}{model="$model"}`, {
                multi: true,
                description: "Versions to show side by side.",
            }),
        )
        .withRow(row("Serving"))
        .withPanel(
            timeSeries({
                title: "Request rate",
                unit: "reqps",
                description: "Prediction requests per second served by each version.",
                queries: [{ expr: `sum by (version) (${RECORDED.requestRate}${MV})`, legend: "{{version}}" }],
                width: 8,
            }),
        )
        .withPanel(
            timeSeries({
                title: "Latency p50 / p95 / p99",
                unit: "s",
                description:
                    "Request latency quantiles per version, from the model server's latency histogram over 5 minutes.",
                queries: [
                    { expr: `max by (version) (${RECORDED.latencyP50}${MV})`, legend: "{{version}} p50" },
                    { expr: `max by (version) (${RECORDED.latencyP95}${MV})`, legend: "{{version}} p95" },
                    { expr: `max by (version) (${RECORDED.latencyP99}${MV})`, legend: "{{version}} p99" },
                ],
                width: 8,
            }),
        )
        .withPanel(
            timeSeries({
                title: "Error rate",
                unit: "percentunit",
                description: "Share of each version's requests that failed.",
                queries: [{ expr: `max by (version) (${RECORDED.errorRatio}${MV})`, legend: "{{version}}" }],
                width: 8,
                min: 0,
            }),
        )
        .withRow(row("Quality"))
        .withPanel(
            timeSeries({
                title: "Accuracy against labelled feedback",
                unit: "percentunit",
                description:
                    "Share of recent predictions matching the labelled feedback received for them, per version.",
                queries: [
                    { expr: `max by (version) (${METRICS.predictionAccuracy.name}${MV})`, legend: "{{version}}" },
                ],
                min: 0,
                max: 1,
            }),
        )
        .withPanel(
            timeSeries({
                title: "Data drift per feature",
                unit: "none",
                description:
                    "Drift score of each input feature against the training data (0: none); the drift alert fires above its configured threshold.",
                queries: [
                    {
                        expr: `max by (version, feature) (${METRICS.dataDrift.name}${MV})`,
                        legend: "{{version}} {{feature}}",
                    },
                ],
                min: 0,
            }),
        )
        .withRow(row("Resources against quota"))
        .withPanel(
            timeSeries({
                title: "CPU used and quota",
                unit: "short",
                description: "CPU cores the version's namespace uses, and its ResourceQuota on CPU requests.",
                queries: [
                    { expr: `max by (version) (${byVersion(RECORDED.namespaceCpu)})`, legend: "{{version}} used" },
                    { expr: `max by (version) (${byVersion(quota("requests.cpu"))})`, legend: "{{version}} quota" },
                ],
                width: 8,
            }),
        )
        .withPanel(
            timeSeries({
                title: "Memory used and quota",
                unit: "bytes",
                description: "Working-set memory of the version's namespace, and its ResourceQuota on memory requests.",
                queries: [
                    { expr: `max by (version) (${byVersion(RECORDED.namespaceMemory)})`, legend: "{{version}} used" },
                    { expr: `max by (version) (${byVersion(quota("requests.memory"))})`, legend: "{{version}} quota" },
                ],
                width: 8,
            }),
        )
        .withPanel(
            timeSeries({
                title: "GPU utilization",
                unit: "percent",
                description:
                    "Average utilization of the GPUs the version's pods hold (dcgm-exporter attributes GPUs to pods).",
                queries: [
                    { expr: `max by (version) (${byVersion(RECORDED.namespaceGpuUtil)})`, legend: "{{version}}" },
                ],
                width: 8,
                min: 0,
                max: 100,
            }),
        )
        .withPanel(
            timeSeries({
                title: "Quota used",
                unit: "percentunit",
                description:
                    "Share of each ResourceQuota entry (CPU, memory, GPUs, pods, storage) the version's namespace uses.",
                queries: [
                    {
                        expr: `max by (version, resource) (${byVersion(RECORDED.quotaUsed)})`,
                        legend: "{{version}} {{resource}}",
                    },
                ],
                min: 0,
                max: 1,
            }),
        )
        .withPanel(
            timeSeries({
                title: "Container restarts",
                unit: "short",
                description:
                    "Container restarts in the version's namespace over the last hour; a steady climb means crash-looping.",
                queries: [
                    {
                        expr: `sum by (version) (${byVersion("sum by (namespace) (increase(kube_pod_container_status_restarts_total[1h]))")})`,
                        legend: "{{version}}",
                    },
                ],
                min: 0,
            }),
        )
        .build();
}
