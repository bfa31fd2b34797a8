/**
 * What Kubernetes' RBAC authorizer decides for one resource request under a list of PolicyRules (a Role's): some
 * rule names the API group, the resource (with its subresource), the verb and, when it lists resourceNames, the
 * object's name; `*` matches anything. Namespaces are the binding's business, not the rules'.
 */
export interface PolicyRule {
    readonly apiGroups?: readonly string[];
    readonly resources?: readonly string[];
    readonly verbs: readonly string[];
    readonly resourceNames?: readonly string[];
}

export interface ResourceRequest {
    readonly verb: string;
    /** "" for the core group. */
    readonly apiGroup: string;
    readonly resource: string;
    readonly subresource?: string;
    /** "" for a request without a name (list, create without a name, watch). */
    readonly name: string;
}

const has = (list: readonly string[] | undefined, v: string) => (list ?? []).includes(v) || (list ?? []).includes("*");

export function ruleAllows(rule: PolicyRule, r: ResourceRequest): boolean {
    const resource = r.subresource ? `${r.resource}/${r.subresource}` : r.resource;
    return (
        has(rule.apiGroups, r.apiGroup) &&
        has(rule.resources, resource) &&
        has(rule.verbs, r.verb) &&
        ((rule.resourceNames ?? []).length === 0 || rule.resourceNames!.includes(r.name))
    );
}

export const rulesAllow = (rules: readonly PolicyRule[], r: ResourceRequest) =>
    rules.some((rule) => ruleAllows(rule, r));

/** Whether any rule uses a wildcard. */
export const hasWildcard = (rules: readonly PolicyRule[]) =>
    rules.some((r) => [r.apiGroups, r.resources, r.verbs, r.resourceNames].some((l) => (l ?? []).includes("*")));
