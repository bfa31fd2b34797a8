/**
 * Helpers shared by the policies: what a CrossGuard resource is (by type token), which stack it belongs to, and
 * which resources configure another one (linked through property dependencies, which are known during
 * `pulumi preview` even when the ids they carry are not).
 */
import type { PolicyResource } from "@pulumi/policy";
import type { Json } from "../../contract/json";

/** Stacks treated as production unless the pack's config names others (`productionStacks`). */
export const DEFAULT_PRODUCTION_STACKS: readonly string[] = ["prod", "production"];

/** Config schema fragment of policies that behave differently in production. */
export const PRODUCTION_CONFIG_SCHEMA = {
    properties: {
        productionStacks: {
            type: "array" as const,
            items: { type: "string" as const },
            default: [...DEFAULT_PRODUCTION_STACKS],
            description: "Stack names held to production rules.",
        },
    },
};

/** Stack name of a URN (`urn:pulumi:<stack>::<project>::<type>::<name>`). */
export function stackOfUrn(urn: string): string {
    return /^urn:pulumi:([^:]+)::/.exec(urn)?.[1] ?? "";
}

/** Whether the resource belongs to a production stack under the policy's config. */
export function isProduction(urn: string, config: { productionStacks?: string[] }): boolean {
    return (config.productionStacks ?? DEFAULT_PRODUCTION_STACKS).includes(stackOfUrn(urn));
}

/** Resources of the given types whose `property` input depends on `target` (e.g. the versioning of a bucket). */
export function configuredBy(
    resources: readonly PolicyResource[],
    target: PolicyResource,
    types: readonly string[],
    property: string,
): PolicyResource[] {
    return resources.filter(
        (r) => types.includes(r.type) && (r.propertyDependencies[property] ?? []).some((d) => d.urn === target.urn),
    );
}

/** Plain-object check for values read from resource properties. */
export function isRecord(value: unknown): value is Record<string, Json> {
    return value !== null && typeof value === "object" && !Array.isArray(value);
}

export const asArray = (value: unknown): Json[] => (Array.isArray(value) ? value : []);

/** A Kubernetes type token `kubernetes:<group>/<version>:<Kind>` split up; the core group is "". */
export interface KubernetesKind {
    readonly group: string;
    readonly version: string;
    readonly kind: string;
}

export function kubernetesKind(type: string): KubernetesKind | undefined {
    const m = /^kubernetes:([^:]+):([^:]+)$/.exec(type);
    if (!m) return undefined;
    const [groupOrCore, version = ""] = m[1].split("/");
    return { group: groupOrCore === "core" ? "" : groupOrCore, version, kind: m[2] };
}

/** Name and namespace of a Kubernetes object's metadata, as `namespace/name` (cluster-scoped: `name`). */
export function objectRef(props: Record<string, Json>): string {
    const md = isRecord(props.metadata) ? props.metadata : {};
    return md.namespace ? `${md.namespace}/${md.name ?? "?"}` : String(md.name ?? "?");
}

/** Helm release types whose `values` and chart `version` the policies read. */
export const HELM_RELEASE_TYPES: readonly string[] = [
    "kubernetes:helm.sh/v3:Release",
    "kubernetes:helm.sh/v3:Chart",
    "kubernetes:helm.sh/v4:Chart",
];

/** Chart name of a Helm release or chart resource (the last path segment of an OCI reference). */
export function chartName(props: Record<string, Json>): string {
    const chart = String(props.chart ?? "");
    return chart.split("/").pop() ?? chart;
}
