import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS } from "../../contract/versions";
import type { GpuScheduling } from "../../contract/platform";

export interface NvidiaDevicePluginArgs {
    /** Where GPU nodes are and the taint they carry. */
    readonly gpuScheduling: GpuScheduling;
    /** Namespace to install into. */
    readonly namespace: string;
}

/** Helm values for the NVIDIA device plugin: only on GPU nodes, tolerating their taint, with requests set. */
export function devicePluginValues(gpu: GpuScheduling) {
    return {
        nodeSelector: {},
        affinity: {
            nodeAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: {
                    nodeSelectorTerms: [
                        {
                            matchExpressions: [
                                { key: gpu.nodeLabel.key, operator: "In", values: [gpu.nodeLabel.value] },
                            ],
                        },
                    ],
                },
            },
        },
        tolerations: [...gpu.tolerations, { key: "CriticalAddonsOnly", operator: "Exists" }],
        priorityClassName: "system-node-critical",
        resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "256Mi" } },
        devicePlugin: { enabled: true },
        gfd: { enabled: false },
    };
}

/**
 * The NVIDIA device plugin advertises `nvidia.com/gpu` on GPU nodes, so a pod requesting a GPU schedules.
 * Without it a GPU node joins but offers no GPUs.
 */
export class NvidiaDevicePlugin extends pulumi.ComponentResource {
    readonly release: k8s.helm.v3.Release;

    constructor(name: string, args: NvidiaDevicePluginArgs, opts?: pulumi.ComponentResourceOptions) {
        // The type the component had in components/k8s: the alias keeps the URNs of stacks deployed before the move.
        super(
            "mlops-testbed:gpu:NvidiaDevicePlugin",
            name,
            {},
            {
                ...opts,
                aliases: [...(opts?.aliases ?? []), { type: "mlops-testbed:k8s:NvidiaDevicePlugin" }],
            },
        );
        const chart = CHARTS.nvidiaDevicePlugin;
        this.release = new k8s.helm.v3.Release(
            `${name}-release`,
            {
                name: "nvidia-device-plugin",
                chart: chart.chart,
                version: chart.version,
                repositoryOpts: { repo: chart.repo },
                namespace: args.namespace,
                values: devicePluginValues(args.gpuScheduling),
            },
            { parent: this },
        );
        this.registerOutputs({});
    }
}
