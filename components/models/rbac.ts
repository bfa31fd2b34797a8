/** The RBAC rules the pipelines' deployer gets in every model version's namespace (model-version-namespace.ts binds them). */
import { DEPLOY_SETTINGS, MODEL_SERVER } from "../../contract/names";

/** An RBAC rule as plain data (a k8s PolicyRule input without Outputs). */
export interface PolicyRule {
    apiGroups: string[];
    resources: string[];
    verbs: string[];
    resourceNames?: string[];
}

/**
 * What the pipelines' deployer may do in a version namespace: exactly what the deploy step calls, and nothing more
 * (`test/api-steps.spec.ts` runs the steps against a recording API and compares). It reads the one deploy-settings
 * ConfigMap; it server-side applies the `model-server` Deployment, HPA and PDB (apply is authorized as `patch`, and
 * as `create` too while the object does not exist yet) and reads the Deployment back until it is rolled out. No
 * Services (a type LoadBalancer, NodePort or externalIPs), no other ConfigMaps (it cannot rewrite its own settings),
 * no Secrets, no RBAC, no pods/exec, nothing cluster-wide.
 */
export const DEPLOYER_RULES: PolicyRule[] = [
    { apiGroups: [""], resources: ["configmaps"], verbs: ["get"], resourceNames: [DEPLOY_SETTINGS.configMap] },
    {
        apiGroups: ["apps"],
        resources: ["deployments"],
        verbs: ["get", "patch", "create"],
        resourceNames: [MODEL_SERVER.name],
    },
    {
        apiGroups: ["autoscaling"],
        resources: ["horizontalpodautoscalers"],
        verbs: ["patch", "create"],
        resourceNames: [MODEL_SERVER.name],
    },
    {
        apiGroups: ["policy"],
        resources: ["poddisruptionbudgets"],
        verbs: ["patch", "create"],
        resourceNames: [MODEL_SERVER.name],
    },
];
