import type * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import { RECORDED } from "../../contract/metric-contract";
import { withModelVersion } from "../rules";
import { labelVariable, newDashboard, row, timeSeries, type DashboardMeta } from "./panels";

export const GPU_FLEET: DashboardMeta = { uid: "mlops-gpu-fleet", title: "GPU fleet (DCGM)" };

const SEL = `node=~"$node"`;

export function gpuFleetDashboard(): dashboard.Dashboard {
    return newDashboard(
        GPU_FLEET,
        "Every GPU from dcgm-exporter: utilization, memory, power, temperature and XID errors, per node and per model-version namespace.",
    )
        .withVariable(
            labelVariable("node", "node", "DCGM_FI_DEV_GPU_UTIL", { multi: true, description: "GPU nodes to show." }),
        )
        .withRow(row("Per GPU"))
        .withPanel(
            timeSeries({
                title: "GPU utilization",
                unit: "percent",
                description: "Share of time a kernel ran on each GPU over the sample period (DCGM_FI_DEV_GPU_UTIL).",
                queries: [{ expr: `avg by (node, gpu) (DCGM_FI_DEV_GPU_UTIL{${SEL}})`, legend: "{{node}} gpu{{gpu}}" }],
                min: 0,
                max: 100,
            }),
        )
        .withPanel(
            timeSeries({
                title: "GPU memory used",
                unit: "percentunit",
                description: "Framebuffer memory in use as a share of the GPU's framebuffer (used / (used + free)).",
                queries: [
                    {
                        expr: `sum by (node, gpu) (DCGM_FI_DEV_FB_USED{${SEL}}) / (sum by (node, gpu) (DCGM_FI_DEV_FB_USED{${SEL}}) + sum by (node, gpu) (DCGM_FI_DEV_FB_FREE{${SEL}}))`,
                        legend: "{{node}} gpu{{gpu}}",
                    },
                ],
                min: 0,
                max: 1,
            }),
        )
        .withPanel(
            timeSeries({
                title: "Power draw",
                unit: "watt",
                description: "Power each GPU draws (DCGM_FI_DEV_POWER_USAGE).",
                queries: [
                    { expr: `avg by (node, gpu) (DCGM_FI_DEV_POWER_USAGE{${SEL}})`, legend: "{{node}} gpu{{gpu}}" },
                ],
                width: 8,
            }),
        )
        .withPanel(
            timeSeries({
                title: "Temperature",
                unit: "celsius",
                description: "GPU core temperature (DCGM_FI_DEV_GPU_TEMP).",
                queries: [{ expr: `max by (node, gpu) (DCGM_FI_DEV_GPU_TEMP{${SEL}})`, legend: "{{node}} gpu{{gpu}}" }],
                width: 8,
            }),
        )
        .withPanel(
            timeSeries({
                title: "Last XID error",
                unit: "none",
                description:
                    "Code of the last XID error each GPU reported (DCGM_FI_DEV_XID_ERRORS); 0 means none. XIDs 48, 63, 64, 74, 79 and 94/95 point at hardware or driver faults.",
                queries: [
                    { expr: `max by (node, gpu) (DCGM_FI_DEV_XID_ERRORS{${SEL}})`, legend: "{{node}} gpu{{gpu}}" },
                ],
                width: 8,
            }),
        )
        .withRow(row("Per model version"))
        .withPanel(
            timeSeries({
                title: "GPU utilization per model version",
                unit: "percent",
                description:
                    "Average utilization of the GPUs held by each model-version namespace (DCGM attributes a GPU to the pod using it).",
                queries: [{ expr: withModelVersion(RECORDED.namespaceGpuUtil), legend: "{{model}}/{{version}}" }],
                min: 0,
                max: 100,
            }),
        )
        .withPanel(
            timeSeries({
                title: "GPU memory per model version",
                unit: "mbytes",
                description: "Framebuffer memory used by the GPUs held by each model-version namespace.",
                queries: [{ expr: withModelVersion(RECORDED.namespaceGpuMemory), legend: "{{model}}/{{version}}" }],
            }),
        )
        .build();
}
