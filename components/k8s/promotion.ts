import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { AlertThresholds } from "../../infra/schema/monitoring";
import type { PromotionConfig } from "../../infra/schema/pipelines";
import { PROMOTION_SCRIPTS_CONFIGMAP, promoteTask, promotionScripts } from "../../pipelines/promotion/task";
import { GATEWAY_NAMESPACE, PART_OF, PIPELINE_SERVICE_ACCOUNTS, PIPELINES_NAMESPACE } from "./constants";

export interface PromotionArgs {
    /** Stepping and comparison settings (`pipelines.promotion`). */
    readonly promotion: PromotionConfig;
    /** Serving objectives (`monitoring.alerts`): the absolute thresholds of every analysis. */
    readonly alerts: AlertThresholds;
    readonly k8sProvider: k8s.Provider;
    /** The Tekton install and the pipelines namespace. */
    readonly dependsOn: pulumi.Input<pulumi.Resource>[];
}

/**
 * What the deployer may do in the gateway namespace to move traffic: read and patch the model HTTPRoutes. Not
 * create or delete them (their shape is the program's), nothing else there.
 */
export const ROUTE_WEIGHT_RULES: k8s.types.input.rbac.v1.PolicyRule[] = [
    { apiGroups: ["gateway.networking.k8s.io"], resources: ["httproutes"], verbs: ["get", "list", "patch"] },
];

/**
 * Progressive promotion: the `promote` Task, the ConfigMap that ships its script, and the Role that lets the
 * deployer change route weights.
 */
export class Promotion extends pulumi.ComponentResource {
    readonly taskName: string;

    constructor(name: string, args: PromotionArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlops-testbed:k8s:Promotion", name, {}, opts);
        const k8sOpts = { parent: this, provider: args.k8sProvider, dependsOn: args.dependsOn };
        const labels = { "app.kubernetes.io/part-of": PART_OF };
        const scripts = new k8s.core.v1.ConfigMap(`${name}-scripts`, {
            metadata: { name: PROMOTION_SCRIPTS_CONFIGMAP, namespace: PIPELINES_NAMESPACE, labels },
            data: promotionScripts(),
        }, k8sOpts);
        const task = promoteTask(args.promotion, args.alerts);
        new k8s.apiextensions.CustomResource(`${name}-task`, { ...task, metadata: { ...task.metadata, labels } } as k8s.apiextensions.CustomResourceArgs, {
            ...k8sOpts,
            dependsOn: [...args.dependsOn, scripts],
        });
        const role = new k8s.rbac.v1.Role(`${name}-route-weights`, {
            metadata: { name: "pipelines-route-weights", namespace: GATEWAY_NAMESPACE, labels },
            rules: ROUTE_WEIGHT_RULES,
        }, k8sOpts);
        const deployer = PIPELINE_SERVICE_ACCOUNTS.deployer;
        new k8s.rbac.v1.RoleBinding(`${name}-route-weights`, {
            metadata: { name: "pipelines-route-weights", namespace: GATEWAY_NAMESPACE, labels },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
            subjects: [{ kind: "ServiceAccount", name: deployer.name, namespace: deployer.namespace }],
        }, k8sOpts);
        this.taskName = task.metadata.name;
        this.registerOutputs({ taskName: this.taskName });
    }
}
