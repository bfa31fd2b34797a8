import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS } from "../../contract/versions";
import type { Scheduling } from "../../contract/platform";

export interface MetricsServerArgs {
    /** Where metrics-server runs (system nodes). */
    readonly scheduling: Scheduling;
    /** Skip verifying the kubelets' serving certificates (kind and others whose kubelets self-sign them). */
    readonly kubeletInsecureTls: boolean;
    /** Resources to wait for before installing (nodes able to run pods). */
    readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/** Namespace metrics-server runs in (the resource metrics API's usual home). */
export const METRICS_SERVER_NAMESPACE = "kube-system";

/** Helm values of the pinned metrics-server chart: placement, requests, and the kubelet TLS choice. */
export function metricsServerValues(args: Pick<MetricsServerArgs, "scheduling" | "kubeletInsecureTls">) {
    return {
        nodeSelector: { ...args.scheduling.nodeSelector },
        tolerations: args.scheduling.tolerations.map((t) => ({ ...t })),
        resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "256Mi" } },
        ...(args.kubeletInsecureTls ? { args: ["--kubelet-insecure-tls"] } : {}),
    };
}

/**
 * metrics-server from its pinned upstream chart: the resource metrics API (metrics.k8s.io) the model servers'
 * HorizontalPodAutoscalers read CPU utilization from. Installed where the platform has none (EKS, existing clusters).
 */
export class MetricsServer extends pulumi.ComponentResource {
    constructor(name: string, args: MetricsServerArgs, opts?: pulumi.ComponentResourceOptions) {
        // The type the component had in components/k8s: the alias keeps the URNs of stacks deployed before the move.
        super(
            "mlops-testbed:models:MetricsServer",
            name,
            {},
            {
                ...opts,
                aliases: [...(opts?.aliases ?? []), { type: "mlops-testbed:k8s:MetricsServer" }],
            },
        );
        const chart = CHARTS.metricsServer;
        new k8s.helm.v3.Release(
            `${name}-release`,
            {
                name: "metrics-server",
                chart: chart.chart,
                version: chart.version,
                repositoryOpts: { repo: chart.repo },
                namespace: METRICS_SERVER_NAMESPACE,
                values: metricsServerValues(args),
            },
            { parent: this, dependsOn: args.dependsOn },
        );
        this.registerOutputs({});
    }
}
