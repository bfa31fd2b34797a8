import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { AlertThresholds } from "../../contract/config/monitoring";
import type { PromotionConfig } from "../../contract/config/pipelines";
import { PROMOTION_SCRIPTS_CONFIGMAP, promoteTask, promotionScripts } from "../promotion/task";
import { PART_OF, PIPELINES_NAMESPACE } from "../../contract/names";

export interface PromotionArgs {
    /** Stepping and comparison settings (`pipelines.promotion`). */
    readonly promotion: PromotionConfig;
    /** Serving objectives (`monitoring.alerts`): the absolute thresholds of every analysis. */
    readonly alerts: AlertThresholds;
    /** The Tekton install and the pipelines namespace. */
    readonly dependsOn: pulumi.Input<pulumi.Resource>[];
}

/**
 * Progressive promotion: the `promote` Task and the ConfigMap that ships its script. The Task runs as the deployer,
 * whose Role in the gateway namespace (the Tekton component's route updater) lets it patch route weights.
 */
export class Promotion extends pulumi.ComponentResource {
    readonly taskName: string;

    constructor(name: string, args: PromotionArgs, opts?: pulumi.ComponentResourceOptions) {
        // The type the component had in components/k8s: the alias keeps the URNs of stacks deployed before the move.
        super(
            "mlops-testbed:pipelines:Promotion",
            name,
            {},
            {
                ...opts,
                aliases: [...(opts?.aliases ?? []), { type: "mlops-testbed:k8s:Promotion" }],
            },
        );
        const k8sOpts = { parent: this, dependsOn: args.dependsOn };
        const labels = { "app.kubernetes.io/part-of": PART_OF };
        const scripts = new k8s.core.v1.ConfigMap(
            `${name}-scripts`,
            {
                metadata: { name: PROMOTION_SCRIPTS_CONFIGMAP, namespace: PIPELINES_NAMESPACE, labels },
                data: promotionScripts(),
            },
            k8sOpts,
        );
        const task = promoteTask(args.promotion, args.alerts);
        new k8s.apiextensions.CustomResource(
            `${name}-task`,
            {
                ...task,
                metadata: { ...task.metadata, labels: { ...task.metadata.labels, ...labels } },
            } as k8s.apiextensions.CustomResourceArgs,
            {
                ...k8sOpts,
                dependsOn: [...args.dependsOn, scripts],
            },
        );
        this.taskName = task.metadata.name;
        this.registerOutputs({ taskName: this.taskName });
    }
}
