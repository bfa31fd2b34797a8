/**
 * What a stack adds to a cluster it does not pay for (the existing platform): the CPU and memory its workloads
 * request, from the plan. Counted: Deployments, StatefulSets and DaemonSets the plan creates (replicas x the
 * containers' requests; a DaemonSet once, as on one node), and every `resources.requests` in the values of its Helm
 * releases (times a `replicas`/`replicaCount` beside it). Not counted, and listed as such: what release manifests
 * fetched at deploy time install (yaml ConfigFiles: Tekton) and Helm releases whose values set no requests (their
 * charts' defaults apply). Pods that controllers create from custom resources (Envoy proxies, the EventListener)
 * are not in the plan at all.
 *
 * Pure functions over plain data.
 */
import { type CostResource, loadBalancersOf } from "./cost";

export interface WorkloadRequests {
    /** The planned resource's name, and for a Helm value its path in the values. */
    readonly name: string;
    readonly cpuCores: number;
    readonly memoryGiB: number;
}

export interface ClusterRequests {
    readonly cpuCores: number;
    readonly memoryGiB: number;
    readonly workloads: readonly WorkloadRequests[];
    /** Services of type LoadBalancer: each a cloud load balancer the cluster's provider creates. */
    readonly loadBalancers: number;
    /** Planned resources whose pods' requests the plan cannot show. */
    readonly notCounted: readonly string[];
}

/** A Kubernetes CPU quantity ("250m", "1", "0.5") in cores. */
export function cpuCores(q: string | number): number {
    if (typeof q === "number") return q;
    const m = /^([0-9]+(?:\.[0-9]+)?)(m?)$/.exec(q.trim());
    if (!m) throw new Error(`not a CPU quantity: ${JSON.stringify(q)}`);
    return Number(m[1]) / (m[2] ? 1000 : 1);
}

const BYTES = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 } as const;

/** A Kubernetes memory quantity ("128Mi", "1Gi", "500M", bytes) in GiB. */
export function memoryGiB(q: string | number): number {
    if (typeof q === "number") return q / 2 ** 30;
    const m = /^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(q.trim());
    if (!m) throw new Error(`not a memory quantity: ${JSON.stringify(q)}`);
    return (Number(m[1]) * (m[2] ? BYTES[m[2] as keyof typeof BYTES] : 1)) / 2 ** 30;
}

type Requests = { cpu?: string | number; memory?: string | number };

const sum = (rs: readonly (Requests | undefined)[]) => ({
    cpuCores: rs.reduce((s, r) => s + (r?.cpu === undefined ? 0 : cpuCores(r.cpu)), 0),
    memoryGiB: rs.reduce((s, r) => s + (r?.memory === undefined ? 0 : memoryGiB(r.memory)), 0),
});

/** Every `resources.requests` in Helm values, with its path, times a replicas count beside it. */
export function valuesRequests(values: unknown, at = ""): WorkloadRequests[] {
    if (!values || typeof values !== "object") return [];
    if (Array.isArray(values)) return values.flatMap((v, i) => valuesRequests(v, `${at}[${i}]`));
    const v = values as Record<string, unknown>;
    const out: WorkloadRequests[] = [];
    const requests = (v["resources"] as { requests?: Requests } | undefined)?.requests;
    if (requests && (requests.cpu !== undefined || requests.memory !== undefined)) {
        const replicas = [v["replicas"], v["replicaCount"]].find((n): n is number => typeof n === "number") ?? 1;
        const one = sum([requests]);
        out.push({
            name: at || "(top level)",
            cpuCores: one.cpuCores * replicas,
            memoryGiB: one.memoryGiB * replicas,
        });
    }
    for (const [key, child] of Object.entries(v))
        if (key !== "resources") out.push(...valuesRequests(child, at ? `${at}.${key}` : key));
    return out;
}

const WORKLOADS = ["kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet", "kubernetes:apps/v1:DaemonSet"];
const HELM = ["kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart"];
const MANIFESTS = ["kubernetes:yaml/v2:ConfigFile", "kubernetes:yaml/v2:ConfigGroup"];

export function clusterRequests(resources: readonly (CostResource & { name: string })[]): ClusterRequests {
    const workloads: WorkloadRequests[] = [];
    const unset: string[] = [];
    for (const r of resources) {
        if (WORKLOADS.includes(r.type)) {
            const spec = r.inputs["spec"] as
                | {
                      replicas?: number;
                      template?: { spec?: { containers?: { resources?: { requests?: Requests } }[] } };
                  }
                | undefined;
            const replicas = r.type.endsWith(":DaemonSet") ? 1 : (spec?.replicas ?? 1);
            const pod = sum((spec?.template?.spec?.containers ?? []).map((c) => c.resources?.requests));
            workloads.push({ name: r.name, cpuCores: pod.cpuCores * replicas, memoryGiB: pod.memoryGiB * replicas });
        } else if (HELM.includes(r.type)) {
            const found = valuesRequests(r.inputs["values"]);
            if (found.length === 0) unset.push(`${r.name} (chart defaults)`);
            for (const w of found) workloads.push({ ...w, name: `${r.name}: ${w.name}` });
        }
    }
    const total = sum([]);
    for (const w of workloads) {
        total.cpuCores += w.cpuCores;
        total.memoryGiB += w.memoryGiB;
    }
    return {
        ...total,
        workloads,
        loadBalancers: loadBalancersOf(resources),
        notCounted: [
            ...resources.filter((r) => MANIFESTS.includes(r.type)).map((r) => `${r.name} (release manifest)`),
            ...unset,
        ],
    };
}
