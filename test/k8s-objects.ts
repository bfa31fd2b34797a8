/**
 * The Kubernetes objects of a plan, and their validation against the Kubernetes schema (`kubernetes-models`) or a
 * CRD schema (`@kubernetes-models/gateway-api`, `@kubernetes-models/prometheus-operator`). Both packages are ESM,
 * hence the dynamic imports.
 */
import { SECRET_PLACEHOLDER, type Plan, type PlannedResource } from "../tools/mock-runtime";
import { toManifest } from "../tools/plan";
import type { Json } from "./json";

export interface K8sObject {
    apiVersion: string;
    kind: string;
    metadata: {
        name?: string;
        namespace?: string;
        labels?: Record<string, string>;
        annotations?: Record<string, string>;
    };
    [key: string]: Json;
}

/** Resources of the plan that are Kubernetes objects: those the offline plan writes to manifests/. */
export function kubernetesResources(plan: Plan): PlannedResource[] {
    return plan.resources.filter((r) => toManifest(r) !== undefined);
}

/** The object a Kubernetes resource would apply, as the offline plan renders it. */
export function toObject(r: PlannedResource): K8sObject {
    const obj = toManifest(r);
    if (!obj) throw new Error(`${r.type} ${r.name} is not a Kubernetes object`);
    return obj as K8sObject;
}

const PACKAGES: Record<string, string> = {
    "gateway.networking.k8s.io": "@kubernetes-models/gateway-api",
    "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
};

/**
 * CRD groups no published model package covers; their objects are checked by the specs that create them (Tekton
 * objects with @ibm/tekton-lint and the wiring checks in pipelines/pipelines.spec.ts; the promotion and trigger
 * specs run what the promote Task and the triggers say).
 */
export const UNMODELLED_GROUPS = ["gateway.envoyproxy.io", "tekton.dev", "triggers.tekton.dev"] as const;

async function modelClass(apiVersion: string, kind: string): Promise<Json> {
    const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
    const pkg = PACKAGES[group] ?? "kubernetes-models";
    const path = group === "" ? `${pkg}/${version}` : `${pkg}/${group}/${version}`;
    const mod = (await import(path)) as Record<string, Json>;
    const cls = mod[kind];
    if (!cls) throw new Error(`${path} has no model for kind ${kind}`);
    return cls;
}

/** Validation errors of one object against its schema ("" when valid). */
export async function schemaErrors(obj: K8sObject): Promise<string> {
    // A server-side-apply patch (ConfigMapPatch, ...) is a partial object of its base kind.
    const cls = await modelClass(obj.apiVersion, obj.kind.replace(/Patch$/, ""));
    try {
        const base = obj.kind.endsWith("Patch") ? { ...obj, kind: obj.kind.replace(/Patch$/, "") } : obj;
        new cls(withSecretMapsOpen(base)).validate();
        return "";
    } catch (err) {
        return `${obj.kind} ${obj.metadata?.namespace ?? ""}/${obj.metadata?.name ?? "?"}: ${(err as Error).message}`;
    }
}

/**
 * A Secret whose content holds a secret output is planned with `data`/`stringData` as the secret placeholder (the
 * plan never shows secret content); validate the rest of it, with those maps empty.
 */
function withSecretMapsOpen(obj: K8sObject): K8sObject {
    if (obj.apiVersion !== "v1" || obj.kind !== "Secret") return obj;
    const open = { ...obj };
    for (const field of ["data", "stringData"]) if (open[field] === SECRET_PLACEHOLDER) open[field] = {};
    return open;
}

export function objectsOfKind(plan: Plan, kind: string, namespace?: string): K8sObject[] {
    return kubernetesResources(plan)
        .map(toObject)
        .filter((o) => o.kind === kind && (namespace === undefined || o.metadata.namespace === namespace));
}
