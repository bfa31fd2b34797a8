/** The RBAC rules of the pipelines' own service accounts outside model namespaces (tekton.ts binds them). */

/** An RBAC rule as plain data (a k8s PolicyRule input without Outputs). */
export interface PolicyRule {
    apiGroups: string[];
    resources: string[];
    verbs: string[];
    resourceNames?: string[];
}

/**
 * What the deployer may do in the gateway namespace: read and patch (weights) the model routes by name, nothing
 * else: not the webhook route, whose filter marks where dataset and alert events come from, and no list of routes.
 * Without models, no rule at all (a rule with empty `resourceNames` would cover every route).
 */
export function routeUpdaterRules(routeNames: readonly string[]): PolicyRule[] {
    if (routeNames.length === 0) return [];
    return [
        {
            apiGroups: ["gateway.networking.k8s.io"],
            resources: ["httproutes"],
            verbs: ["get", "patch"],
            resourceNames: [...routeNames].sort(),
        },
    ];
}

/** What the run pruner may do in the pipelines namespace: list runs and delete the old ones. */
export const PRUNER_RULES: PolicyRule[] = [
    { apiGroups: ["tekton.dev"], resources: ["pipelineruns"], verbs: ["list", "delete"] },
];
