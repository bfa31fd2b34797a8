import type * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import { RECORDED } from "../../contract/metric-contract";
import { GPU_IDLE_INTERVAL_MINUTES } from "../rules";
import { newDashboard, row, statPanel, timeSeries, type DashboardMeta } from "./panels";

export const OVERVIEW: DashboardMeta = { uid: "mlops-overview", title: "Testbed overview" };

const GPU = `resource="nvidia_com_gpu"`;
const CONTAINERS = `container!="", image!=""`;

export function overviewDashboard(): dashboard.Dashboard {
    return newDashboard(
        OVERVIEW,
        "The whole cluster at a glance: nodes, CPU, memory and GPU allocated and used, pods per namespace, idle GPU hours.",
    )
        .withRow(row("Fleet"))
        .withPanel(
            statPanel({
                title: "Nodes",
                unit: "short",
                description: "Nodes registered in the cluster (kube-state-metrics).",
                queries: [{ expr: "count(kube_node_info)" }],
            }),
        )
        .withPanel(
            statPanel({
                title: "GPU nodes",
                unit: "short",
                description: "Nodes that advertise at least one nvidia.com/gpu (the device plugin is running on them).",
                queries: [{ expr: `count(kube_node_status_capacity{${GPU}} > 0)` }],
            }),
        )
        .withPanel(
            statPanel({
                title: "GPUs allocated",
                unit: "short",
                description: "GPUs requested by running pods, out of the GPUs the nodes offer.",
                queries: [
                    { expr: `sum(kube_pod_container_resource_requests{${GPU}})`, legend: "allocated" },
                    { expr: `sum(kube_node_status_allocatable{${GPU}})`, legend: "allocatable" },
                ],
            }),
        )
        .withPanel(
            statPanel({
                title: "Idle GPU hours",
                unit: "h",
                description: `GPU-hours in the selected time range during which a GPU sat under the idle utilization threshold (recording rule ${RECORDED.gpuIdle}, sampled every ${GPU_IDLE_INTERVAL_MINUTES}m). Idle GPUs cost money and do no work.`,
                queries: [
                    { expr: `sum(sum_over_time(${RECORDED.gpuIdle}[$__range])) / ${60 / GPU_IDLE_INTERVAL_MINUTES}` },
                ],
            }),
        )
        .withRow(row("Allocated and used"))
        .withPanel(
            timeSeries({
                title: "CPU: allocatable, requested, used",
                unit: "short",
                description:
                    "CPU cores the nodes offer, the cores pods request, and the cores containers actually use (cAdvisor).",
                queries: [
                    { expr: `sum(kube_node_status_allocatable{resource="cpu"})`, legend: "allocatable" },
                    { expr: `sum(kube_pod_container_resource_requests{resource="cpu"})`, legend: "requested" },
                    {
                        expr: `sum(rate(container_cpu_usage_seconds_total{${CONTAINERS}}[$__rate_interval]))`,
                        legend: "used",
                    },
                ],
                width: 8,
            }),
        )
        .withPanel(
            timeSeries({
                title: "Memory: allocatable, requested, used",
                unit: "bytes",
                description:
                    "Memory the nodes offer, the memory pods request, and the working set containers actually use.",
                queries: [
                    { expr: `sum(kube_node_status_allocatable{resource="memory"})`, legend: "allocatable" },
                    { expr: `sum(kube_pod_container_resource_requests{resource="memory"})`, legend: "requested" },
                    { expr: `sum(container_memory_working_set_bytes{${CONTAINERS}})`, legend: "used" },
                ],
                width: 8,
            }),
        )
        .withPanel(
            timeSeries({
                title: "GPU: allocatable, requested, busy",
                unit: "short",
                description:
                    "GPUs the nodes offer, GPUs pods request, and busy GPU-equivalents (sum of DCGM utilization / 100).",
                queries: [
                    { expr: `sum(kube_node_status_allocatable{${GPU}})`, legend: "allocatable" },
                    { expr: `sum(kube_pod_container_resource_requests{${GPU}})`, legend: "requested" },
                    { expr: `sum(DCGM_FI_DEV_GPU_UTIL) / 100`, legend: "busy" },
                ],
                width: 8,
            }),
        )
        .withRow(row("Nodes and pods"))
        .withPanel(
            timeSeries({
                title: "CPU utilization per node",
                unit: "percentunit",
                description: "Share of each node's CPU time not idle (node-exporter).",
                queries: [
                    {
                        expr: `1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[$__rate_interval]))`,
                        legend: "{{instance}}",
                    },
                ],
                min: 0,
                max: 1,
            }),
        )
        .withPanel(
            timeSeries({
                title: "Memory utilization per node",
                unit: "percentunit",
                description: "Share of each node's memory in use (node-exporter: 1 - available / total).",
                queries: [
                    { expr: `1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes`, legend: "{{instance}}" },
                ],
                min: 0,
                max: 1,
            }),
        )
        .withPanel(
            timeSeries({
                title: "Running pods per namespace",
                unit: "short",
                description: "Pods in phase Running, per namespace.",
                queries: [
                    { expr: `sum by (namespace) (kube_pod_status_phase{phase="Running"})`, legend: "{{namespace}}" },
                ],
                width: 24,
            }),
        )
        .build();
}
