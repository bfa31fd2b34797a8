/**
 * The deployment critical path of a plan: when each resource could start and finish during `pulumi up`, given
 * its dependencies and a create-time estimate per type, and which chain of resources decides the total.
 *
 * The model follows how the Pulumi Node.js SDK and engine order work:
 * - A resource starts once every resource it depends on has finished: its `dependsOn` (the SDK already
 *   expands a component there to the resources inside it), every URN in its `propertyDependencies` (output
 *   references), and its provider.
 * - A child is registered only after its parent is, so it starts no earlier than its parent starts; that is
 *   how a `dependsOn` on a component holds back everything inside the component.
 * - A local component takes no time itself and finishes when its last child finishes. Remote components
 *   (`eks:index:Cluster`) have no visible children and take their table estimate.
 *
 * Pure functions over plain data; no Pulumi runtime needed.
 */
import type { CloudName } from "../../contract/clouds";
import { type EstimateProfile, ESTIMATE_PROFILES, estimateFor, estimateKey, type EstimatedResource } from "./estimates";

/** What the graph needs of a planned resource (a subset of tools/mock-runtime's PlannedResource). */
export interface GraphResource extends EstimatedResource {
    readonly urn: string;
    readonly name: string;
    readonly parent: string | null;
    readonly dependsOn: readonly string[];
    readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
    /** Provider reference `<urn>::<id>`, or null. */
    readonly provider: string | null;
}

/** Seconds each resource takes to create; defaults to the estimate table for one profile. */
export type DurationOf = (r: GraphResource) => number;

export interface Timing {
    readonly start: number;
    readonly finish: number;
    /** Own create time (0 for local components). */
    readonly duration: number;
    /** What decided the start: the parent's start, a dependency's finish, or nothing (starts at 0). */
    readonly startCause: { readonly kind: "parent" | "dependency"; readonly urn: string } | null;
    /** What decided the finish: the resource's own work, or its last child. */
    readonly finishCause: { readonly kind: "self" } | { readonly kind: "child"; readonly urn: string };
}

export interface PathStep {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    readonly start: number;
    readonly finish: number;
    readonly duration: number;
}

export interface Schedule {
    /** Estimated duration of the whole `pulumi up`, seconds. */
    readonly total: number;
    readonly timings: ReadonlyMap<string, Timing>;
    /** Resources whose create time adds up to `total`, in order. */
    readonly path: readonly PathStep[];
}

/** The URN of a provider reference `<urn>::<id>`. */
export function providerUrn(ref: string | null): string | null {
    if (!ref) return null;
    const i = ref.lastIndexOf("::");
    return i > 0 ? ref.slice(0, i) : ref;
}

function ancestorsOf(r: GraphResource, byUrn: ReadonlyMap<string, GraphResource>): Set<string> {
    const out = new Set<string>();
    let cur = r.parent;
    while (cur && !out.has(cur)) {
        out.add(cur);
        cur = byUrn.get(cur)?.parent ?? null;
    }
    return out;
}

/**
 * Everything a resource waits for before it starts (parent excluded): dependsOn, output references and the
 * provider, restricted to resources in the plan. Its own ancestors are left out: a child waiting for the
 * component it is part of is a cycle the engine resolves by registration order, not by waiting.
 */
export function dependenciesOf(r: GraphResource, byUrn: ReadonlyMap<string, GraphResource>): string[] {
    const all = new Set<string>(r.dependsOn);
    for (const urns of Object.values(r.propertyDependencies)) for (const u of urns) all.add(u);
    const provider = providerUrn(r.provider);
    if (provider) all.add(provider);
    all.delete(r.urn);
    const ancestors = ancestorsOf(r, byUrn);
    return [...all].filter((u) => byUrn.has(u) && !ancestors.has(u)).sort();
}

/** `dependsOn` entries that no output reference or provider explains: ordering the program asked for by hand. */
export function explicitDependencies(r: GraphResource): string[] {
    const implied = new Set<string>();
    for (const urns of Object.values(r.propertyDependencies)) for (const u of urns) implied.add(u);
    const provider = providerUrn(r.provider);
    if (provider) implied.add(provider);
    return r.dependsOn.filter((u) => !implied.has(u) && u !== r.urn);
}

export const durationFromTable =
    (profile: EstimateProfile): DurationOf =>
    (r) =>
        estimateFor(r).estimate[profile];

/**
 * Earliest start and finish of every resource. `without` drops dependency edges (resource URN → URNs it should
 * no longer wait for), for what-if questions. Throws on a dependency cycle, naming it.
 */
export function schedule(
    resources: readonly GraphResource[],
    durationOf: DurationOf,
    without: ReadonlyMap<string, ReadonlySet<string>> = new Map(),
): Schedule {
    const byUrn = new Map(resources.map((r) => [r.urn, r] as const));
    const children = new Map<string, string[]>();
    for (const r of resources) {
        if (r.parent && byUrn.has(r.parent)) children.set(r.parent, [...(children.get(r.parent) ?? []), r.urn]);
    }
    const deps = new Map(
        resources.map((r) => [r.urn, dependenciesOf(r, byUrn).filter((d) => !without.get(r.urn)?.has(d))] as const),
    );

    const starts = new Map<string, { at: number; cause: Timing["startCause"] }>();
    const finishes = new Map<string, { at: number; cause: Timing["finishCause"] }>();
    const visiting = new Set<string>();

    // Events: "S:<urn>" (start) and "F:<urn>" (finish). Iterative depth-first evaluation so deep graphs cannot
    // overflow the stack.
    const value = (event: string): number => {
        const stack: string[] = [event];
        while (stack.length > 0) {
            const ev = stack[stack.length - 1];
            const kind = ev[0];
            const urn = ev.slice(2);
            const done = kind === "S" ? starts.has(urn) : finishes.has(urn);
            if (done) {
                stack.pop();
                visiting.delete(ev);
                continue;
            }
            const r = byUrn.get(urn)!;
            const needs =
                kind === "S"
                    ? [
                          ...(r.parent && byUrn.has(r.parent) ? [`S:${r.parent}`] : []),
                          ...deps.get(urn)!.map((d) => `F:${d}`),
                      ]
                    : [`S:${urn}`, ...(children.get(urn) ?? []).map((c) => `F:${c}`)];
            const pending = needs.filter((n) => (n[0] === "S" ? !starts.has(n.slice(2)) : !finishes.has(n.slice(2))));
            if (pending.length > 0) {
                if (visiting.has(ev)) throw new Error(`dependency cycle through ${urn}`);
                visiting.add(ev);
                for (const p of pending) {
                    if (visiting.has(p))
                        throw new Error(`dependency cycle: ${p.slice(2)} and ${urn} wait for each other`);
                    stack.push(p);
                }
                continue;
            }
            if (kind === "S") {
                let at = 0;
                let cause: Timing["startCause"] = null;
                if (r.parent && starts.has(r.parent)) {
                    at = starts.get(r.parent)!.at;
                    cause = at > 0 ? { kind: "parent", urn: r.parent } : null;
                }
                for (const d of deps.get(urn)!) {
                    const f = finishes.get(d)!.at;
                    if (f > at) {
                        at = f;
                        cause = { kind: "dependency", urn: d };
                    }
                }
                starts.set(urn, { at, cause });
            } else {
                let at = starts.get(urn)!.at + durationOf(r);
                let cause: Timing["finishCause"] = { kind: "self" };
                for (const c of children.get(urn) ?? []) {
                    const f = finishes.get(c)!.at;
                    if (f > at) {
                        at = f;
                        cause = { kind: "child", urn: c };
                    }
                }
                finishes.set(urn, { at, cause });
            }
            stack.pop();
            visiting.delete(ev);
        }
        return event[0] === "S" ? starts.get(event.slice(2))!.at : finishes.get(event.slice(2))!.at;
    };

    let total = 0;
    let last: string | null = null;
    for (const r of resources) {
        const f = value(`F:${r.urn}`);
        if (f > total) {
            total = f;
            last = r.urn;
        }
    }

    const timings = new Map<string, Timing>();
    for (const r of resources) {
        const s = starts.get(r.urn)!;
        const f = finishes.get(r.urn)!;
        timings.set(r.urn, {
            start: s.at,
            finish: f.at,
            duration: durationOf(r),
            startCause: s.cause,
            finishCause: f.cause,
        });
    }

    const path: PathStep[] = [];
    let cur: string | null = last ? `F:${last}` : null;
    while (cur) {
        const urn = cur.slice(2);
        const t = timings.get(urn)!;
        if (cur[0] === "F") {
            if (t.finishCause.kind === "child") {
                cur = `F:${t.finishCause.urn}`;
                continue;
            }
            const r = byUrn.get(urn)!;
            if (t.duration > 0)
                path.push({
                    urn,
                    type: r.type,
                    name: r.name,
                    start: t.start,
                    finish: t.start + t.duration,
                    duration: t.duration,
                });
            cur = `S:${urn}`;
        } else {
            cur = t.startCause
                ? t.startCause.kind === "parent"
                    ? `S:${t.startCause.urn}`
                    : `F:${t.startCause.urn}`
                : null;
        }
    }
    path.reverse();
    return { total, timings, path };
}

const HELM_WAVE = ["kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart"] as const;
/** A Service of type LoadBalancer (its estimate key, tools/bench/estimates.ts). */
const LOAD_BALANCER = "kubernetes:core/v1:Service#LoadBalancer";
/** The step runtime's install-time build (a Job running buildah; its estimate key, tools/bench/estimates.ts). */
const IMAGE_BUILD = "kubernetes:batch/v1:Job#image-build";

/**
 * The parts of each platform's shortest `pulumi up`, stage after stage. A stage's parts need only the stages
 * before them (never each other), so a stage takes as long as its slowest part in the plan, and the floor is the
 * sum of the stages. Each platform's floor is built from that platform's own parts, so every ratio to it means the
 * same thing: how far the design's ordering is from the parts it cannot do without.
 * - aws: the EKS control plane; the node groups (the first one brings the nodes Helm's pods run on); one wave of
 *   Helm releases beside the gateway's load balancer (a Service needs its namespace, not the release).
 * - azure: the AKS cluster with its first pool (the system pool is part of the ManagedCluster); the other pools,
 *   one Helm wave and the load balancer side by side (each needs only the cluster).
 * - existing: the cluster is there already: one Helm wave beside the load balancer.
 * Every platform's last stage also holds the step runtime's build (issue #19 item 6): it runs on the nodes beside the
 * Helm wave and must finish before the pipelines can run, so it moves time from every run into the install.
 */
export const FLOOR_STAGES = {
    aws: [
        { stage: "cluster", types: ["eks:index:Cluster", "aws:eks/cluster:Cluster"] },
        { stage: "node groups", types: ["aws:eks/nodeGroup:NodeGroup"] },
        { stage: "Helm wave, load balancer and runtime build", types: [...HELM_WAVE, LOAD_BALANCER, IMAGE_BUILD] },
    ],
    azure: [
        { stage: "cluster with its system pool", types: ["azure-native:containerservice:ManagedCluster"] },
        {
            stage: "node pools, Helm wave, load balancer and runtime build",
            types: ["azure-native:containerservice:AgentPool", ...HELM_WAVE, LOAD_BALANCER, IMAGE_BUILD],
        },
    ],
    existing: [
        { stage: "Helm wave, load balancer and runtime build", types: [...HELM_WAVE, LOAD_BALANCER, IMAGE_BUILD] },
    ],
} as const satisfies Record<CloudName, readonly { stage: string; types: readonly string[] }[]>;

/**
 * The shortest `pulumi up` a platform's design could have (FLOOR_STAGES): each stage the slowest of its parts the
 * plan has, a stage without any counted as nothing.
 */
export function floorSeconds(resources: readonly GraphResource[], cloud: CloudName, profile: EstimateProfile): number {
    let sum = 0;
    for (const { types } of FLOOR_STAGES[cloud]) {
        const present = resources.filter((r) => (types as readonly string[]).includes(estimateKey(r)));
        if (present.length > 0) sum += Math.max(...present.map((r) => estimateFor(r).estimate[profile]));
    }
    return sum;
}

export interface SerializationCost {
    readonly urn: string;
    readonly name: string;
    /** dependsOn entries that no output reference explains. */
    readonly explicit: readonly string[];
    /** Seconds the whole `pulumi up` would be shorter (typical profile) without those edges. */
    readonly savedSeconds: number;
}

export interface CriticalPathReport {
    /** The platform whose floor the ratios are to (FLOOR_STAGES). */
    readonly cloud: CloudName;
    readonly totals: Record<EstimateProfile, number>;
    readonly floors: Record<EstimateProfile, number>;
    /** total / floor per profile; null when the plan has none of the floor's parts. */
    readonly ratios: Record<EstimateProfile, number | null>;
    /** Sum of every resource's own create time (typical): what a fully serial `up` would take. */
    readonly serialSeconds: number;
    /** serialSeconds / typical total: how much the graph lets run side by side. */
    readonly parallelism: number;
    readonly path: readonly PathStep[];
    readonly explicitDependencyCosts: readonly SerializationCost[];
    /** Custom resource types with no estimate (they took the default); add them to tools/bench/estimates.ts. */
    readonly unknownTypes: readonly string[];
}

/** The critical path of a plan of the `cloud` platform, and its ratio to that platform's floor. */
export function criticalPath(resources: readonly GraphResource[], cloud: CloudName): CriticalPathReport {
    const runs = Object.fromEntries(
        ESTIMATE_PROFILES.map((p) => [p, schedule(resources, durationFromTable(p))]),
    ) as Record<EstimateProfile, Schedule>;
    const totals = Object.fromEntries(ESTIMATE_PROFILES.map((p) => [p, runs[p].total])) as Record<
        EstimateProfile,
        number
    >;
    const floors = Object.fromEntries(ESTIMATE_PROFILES.map((p) => [p, floorSeconds(resources, cloud, p)])) as Record<
        EstimateProfile,
        number
    >;
    const ratios = Object.fromEntries(
        ESTIMATE_PROFILES.map((p) => [p, floors[p] > 0 ? totals[p] / floors[p] : null]),
    ) as Record<EstimateProfile, number | null>;
    const typical = durationFromTable("typical");
    const serialSeconds = resources.reduce((s, r) => s + typical(r), 0);

    const explicitDependencyCosts: SerializationCost[] = [];
    for (const r of resources) {
        const explicit = explicitDependencies(r);
        if (explicit.length === 0) continue;
        const without = schedule(resources, typical, new Map([[r.urn, new Set(explicit)]])).total;
        explicitDependencyCosts.push({ urn: r.urn, name: r.name, explicit, savedSeconds: totals.typical - without });
    }
    explicitDependencyCosts.sort((a, b) => b.savedSeconds - a.savedSeconds || a.urn.localeCompare(b.urn));

    const unknownTypes = [...new Set(resources.filter((r) => !estimateFor(r).known).map((r) => r.type))].sort();
    return {
        cloud,
        totals,
        floors,
        ratios,
        serialSeconds,
        parallelism: totals.typical > 0 ? serialSeconds / totals.typical : 1,
        path: runs.typical.path,
        explicitDependencyCosts,
        unknownTypes,
    };
}
