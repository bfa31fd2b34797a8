/**
 * Every model-version namespace (a Namespace labelled `mlops-testbed/model`) is a box: a ResourceQuota caps it
 * (GPUs included), a LimitRange gives containers CPU and memory defaults but never a GPU default, default-deny
 * NetworkPolicies close it in both directions, and Pod Security `restricted` is enforced.
 */
import type { PolicyResource, ReportViolation, StackValidationPolicy } from "@pulumi/policy";
import { MODEL_LABEL_KEYS } from "../../contract/names";
import { asArray, isRecord, kubernetesKind } from "../lib/resources";

/** Resource names the quota must cap, as alternatives (`requests.cpu` or the `cpu` shorthand). */
const QUOTA_KEYS: readonly (readonly string[])[] = [
    ["requests.cpu", "cpu"],
    ["requests.memory", "memory"],
    ["requests.nvidia.com/gpu"],
    ["pods"],
];
const PSA_ENFORCE = "pod-security.kubernetes.io/enforce";

interface ModelNamespace {
    readonly name: string;
    readonly resource: PolicyResource;
}

function kindOf(r: PolicyResource): string | undefined {
    const k = kubernetesKind(r.type);
    return k && (k.group === "" || k.group === "networking.k8s.io") ? k.kind : undefined;
}

function modelNamespaces(resources: readonly PolicyResource[]): ModelNamespace[] {
    return resources
        .filter(
            (r) =>
                kindOf(r) === "Namespace" &&
                isRecord(r.props.metadata?.labels) &&
                MODEL_LABEL_KEYS.model in r.props.metadata.labels,
        )
        .map((r) => ({ name: String(r.props.metadata.name), resource: r }));
}

/** Namespaced objects by kind and namespace, built once per stack (a stack may hold hundreds of namespaces). */
type ObjectIndex = (kind: string, namespace: string) => PolicyResource[];

function indexObjects(resources: readonly PolicyResource[]): ObjectIndex {
    const index = new Map<string, PolicyResource[]>();
    for (const r of resources) {
        const kind = kindOf(r);
        const ns = r.props.metadata?.namespace;
        if (!kind || typeof ns !== "string") continue;
        const key = `${kind}/${ns}`;
        const list = index.get(key);
        if (list) list.push(r);
        else index.set(key, [r]);
    }
    return (kind, namespace) => index.get(`${kind}/${namespace}`) ?? [];
}

/** Whether a resource name is a GPU (an extended resource such as nvidia.com/gpu or amd.com/gpu). */
export function isGpuResourceName(name: string): boolean {
    return /(^|\/)gpu$/.test(name) || /\.com\/gpu/.test(name);
}

function namespacePolicy(
    name: string,
    description: string,
    check: (ns: ModelNamespace, objectsIn: ObjectIndex) => string[],
): StackValidationPolicy {
    return {
        name,
        description,
        enforcementLevel: "mandatory",
        validateStack: (args, reportViolation: ReportViolation) => {
            const objectsIn = indexObjects(args.resources);
            for (const ns of modelNamespaces(args.resources)) {
                for (const problem of check(ns, objectsIn))
                    reportViolation(`model-version namespace ${ns.name}: ${problem}`, ns.resource.urn);
            }
        },
    };
}

export const modelNamespaceQuota = namespacePolicy(
    "model-namespace-quota",
    "Every model-version namespace has a ResourceQuota capping CPU and memory requests, GPU requests and pods.",
    (ns, objectsIn) => {
        const quotas = objectsIn("ResourceQuota", ns.name);
        if (quotas.length === 0) return ["has no ResourceQuota"];
        const hard = Object.assign(
            {},
            ...quotas.map((q) => (isRecord(q.props.spec?.hard) ? q.props.spec.hard : {})),
        ) as Record<string, unknown>;
        const missing = QUOTA_KEYS.filter((alternatives) => !alternatives.some((k) => k in hard)).map((a) => a[0]);
        return missing.length > 0 ? [`its ResourceQuota does not cap ${missing.join(", ")}`] : [];
    },
);

export const modelNamespaceLimitRange = namespacePolicy(
    "model-namespace-limitrange",
    "Every model-version namespace has a LimitRange with container CPU and memory defaults, and no LimitRange there sets a GPU default, minimum or maximum (a GPU default would make every pod request a GPU).",
    (ns, objectsIn) => {
        const ranges = objectsIn("LimitRange", ns.name);
        const problems: string[] = [];
        const items = ranges.flatMap((r) => asArray(r.props.spec?.limits).map((item) => ({ range: r, item })));
        const defaults = items.some(
            ({ item }) =>
                item?.type === "Container" &&
                isRecord(item.defaultRequest) &&
                "cpu" in item.defaultRequest &&
                "memory" in item.defaultRequest,
        );
        if (!defaults) problems.push("has no LimitRange giving containers default CPU and memory requests");
        for (const { range, item } of items) {
            for (const field of ["default", "defaultRequest", "max", "min", "maxLimitRequestRatio"]) {
                const gpus = isRecord(item?.[field]) ? Object.keys(item[field]).filter(isGpuResourceName) : [];
                if (gpus.length > 0)
                    problems.push(
                        `LimitRange ${range.props.metadata?.name ?? range.name} sets ${field} for ${gpus.join(", ")}`,
                    );
            }
        }
        return problems;
    },
);

/** A policy that selects every pod and has a type with no rule: it denies that direction. */
function deniesAll(policy: PolicyResource, direction: "Ingress" | "Egress"): boolean {
    const spec = isRecord(policy.props.spec) ? policy.props.spec : {};
    const selector = isRecord(spec.podSelector) ? spec.podSelector : undefined;
    const selectsAll =
        selector !== undefined &&
        Object.keys(selector.matchLabels ?? {}).length === 0 &&
        asArray(selector.matchExpressions).length === 0;
    const rules = asArray(direction === "Ingress" ? spec.ingress : spec.egress);
    return selectsAll && asArray(spec.policyTypes).includes(direction) && rules.length === 0;
}

export const modelNamespaceDefaultDeny = namespacePolicy(
    "model-namespace-default-deny",
    "Every model-version namespace has NetworkPolicies that deny all ingress and all egress by default; other policies then allow the few flows it needs.",
    (ns, objectsIn) => {
        const policies = objectsIn("NetworkPolicy", ns.name);
        return (["Ingress", "Egress"] as const)
            .filter((dir) => !policies.some((p) => deniesAll(p, dir)))
            .map(
                (dir) =>
                    `has no default-deny ${dir.toLowerCase()} NetworkPolicy (podSelector {}, policyTypes [${dir}], no rules)`,
            );
    },
);

export const modelNamespacePsaRestricted = namespacePolicy(
    "model-namespace-psa-restricted",
    "Every model-version namespace enforces Pod Security Admission level restricted.",
    (ns) => {
        const level = ns.resource.props.metadata?.labels?.[PSA_ENFORCE];
        return level === "restricted"
            ? []
            : [`enforces Pod Security level ${level ?? "none"} (label ${PSA_ENFORCE}: restricted)`];
    },
);

export const modelNamespacePolicies = [
    modelNamespaceQuota,
    modelNamespaceLimitRange,
    modelNamespaceDefaultDeny,
    modelNamespacePsaRestricted,
];
