import { z } from "zod";
import {
    GATEWAY_NAMESPACE,
    HPA_MAX_REPLICAS_FACTOR,
    MODEL_SERVER_RESOURCES,
    MONITORING_NAMESPACE,
    PIPELINES_NAMESPACE,
    STORE_NAMESPACE,
} from "../names";
import { TEKTON } from "../versions";
import { dnsLabel, quantity, quantityMilli, wholeNumber } from "./common";
import { type ConfigIssue, keyPath } from "./issues";

export const TRAFFIC_STRATEGIES = ["single", "canary", "blue-green", "shadow"] as const;
export type TrafficStrategy = (typeof TRAFFIC_STRATEGIES)[number];

/**
 * Most versions one model may have: a Gateway API HTTPRoute rule holds at most 16 backendRefs (and 16 filters,
 * one of which is the URL rewrite, so a shadow can mirror to 15 versions).
 */
export const MAX_VERSIONS_PER_MODEL = 16;

/** Per-version overrides of the namespace ResourceQuota; unset fields take the stack's `quotaDefaults`. */
export const quotaSchema = z.strictObject({
    /** Sum of CPU requests of all pods in the namespace. */
    cpu: quantity.optional(),
    /** Sum of memory requests (and limits) of all pods in the namespace. */
    memory: quantity.optional(),
    /** Sum of `nvidia.com/gpu` requests of all pods in the namespace. */
    gpu: wholeNumber("gpu", 0, 64).optional(),
    /** Number of pods. */
    pods: wholeNumber("pods", 1, 1000).optional(),
    /** Sum of PersistentVolumeClaim storage requests. */
    storage: quantity.optional(),
});

export const modelVersionSchema = z.strictObject({
    name: dnsLabel(30),
    /** Model server replicas (read by the deploy pipeline from the namespace annotations). */
    replicas: wholeNumber("replicas", 0, 100).default(1),
    /** GPUs per model-server replica (0: CPU only). */
    gpu: wholeNumber("gpu", 0, 8).default(0),
    quota: quotaSchema.default({}),
});

export const trafficSchema = z.strictObject({
    strategy: z.enum(TRAFFIC_STRATEGIES, { error: `must be one of ${TRAFFIC_STRATEGIES.join(", ")}` }),
    /** Percent of live traffic per version name; must sum to 100. Versions not named get 0. */
    weights: z.record(z.string(), wholeNumber("weight", 0, 100)).optional(),
    /** With `shadow`: the version that serves all live traffic; every other version gets a mirrored copy. */
    shadowOf: z.string().optional(),
});

export const modelSchema = z.strictObject({
    name: dnsLabel(30),
    versions: z
        .array(modelVersionSchema)
        .min(1, { error: "needs at least one version" })
        .max(MAX_VERSIONS_PER_MODEL, {
            error: `at most ${MAX_VERSIONS_PER_MODEL} versions per model (a Gateway API route holds at most 16 backends); remove retired versions`,
        }),
    traffic: trafficSchema.default({ strategy: "single" }),
});

/** ResourceQuota of every model-version namespace, per environment; a version's `quota` overrides single fields. */
export const quotaDefaultsSchema = z.strictObject({
    cpu: quantity.default("8"),
    memory: quantity.default("32Gi"),
    gpu: wholeNumber("gpu", 0, 64).default(1),
    pods: wholeNumber("pods", 1, 1000).default(20),
    storage: quantity.default("50Gi"),
});

export const modelsSchema = z.array(modelSchema).max(100, { error: "at most 100 models" }).default([]);

/** The Envoy gateway that carries model traffic. */
export const modelGatewaySchema = z.strictObject({
    /** Envoy proxy replicas serving model traffic (2 or more survive a node loss). */
    replicas: wholeNumber("replicas", 1, 20).default(1),
});

export type ModelConfig = z.infer<typeof modelSchema>;
export type ModelVersionConfig = z.infer<typeof modelVersionSchema>;
export type QuotaDefaults = z.infer<typeof quotaDefaultsSchema>;

/**
 * Namespaces a model version must never land in: every namespace the cluster layer or a platform creates or
 * installs into (besides kube-*, refused separately). A model namespace always holds a dash (`<model>-<version>`),
 * but the list is complete so that the message names them all.
 */
export const RESERVED_NAMESPACES: readonly string[] = [
    "default",
    MONITORING_NAMESPACE,
    PIPELINES_NAMESPACE,
    GATEWAY_NAMESPACE,
    // Fixed by the pinned Tekton Pipelines and Triggers release manifests.
    TEKTON.pipelines.namespace,
    "tekton-pipelines-resolvers",
    // The in-cluster store of an existing cluster (SeaweedFS).
    STORE_NAMESPACE,
    // Envoy Gateway's default and cert-manager's, which users commonly install beside the testbed.
    "envoy-gateway-system",
    "cert-manager",
];

/** The ResourceQuota of a version: its overrides over the stack defaults. */
export function versionQuota(version: ModelVersionConfig, defaults: QuotaDefaults): QuotaDefaults {
    return {
        ...defaults,
        ...Object.fromEntries(Object.entries(version.quota).filter(([, v]) => v !== undefined)),
    } as QuotaDefaults;
}

/** A quota dimension a model-server pod counts against, with the quota key that sets it. */
interface QuotaDimension {
    /** ResourceQuota key. */
    readonly resource: "requests.cpu" | "requests.memory" | "limits.memory" | "requests.nvidia.com/gpu" | "pods";
    /** Config key of the quota (`quota.<key>` or `quotaDefaults.<key>`). */
    readonly key: keyof QuotaDefaults;
    /** Per pod, in thousandths (GPUs and pods in thousandths too). */
    readonly perPod: number;
    /** The version's quota, in thousandths. */
    readonly quota: number;
    /** Per pod, as a person reads it. */
    readonly perPodText: string;
    /** The quota, as a person reads it. */
    readonly quotaText: string;
}

const milliOf = (q: string | undefined) => (q === undefined ? 0 : quantityMilli(q));

/**
 * What one model-server pod of a version counts against the namespace quota. A pod's effective request (and limit)
 * is the larger of its init container's and its containers' sum (here the server's), as the quota admission counts.
 */
export function podQuotaDimensions(version: ModelVersionConfig, defaults: QuotaDefaults): QuotaDimension[] {
    const q = versionQuota(version, defaults);
    const { server, fetcher } = MODEL_SERVER_RESOURCES;
    const larger = (a: string, b: string) => (quantityMilli(a) >= quantityMilli(b) ? a : b);
    const cpu = larger(server.requests.cpu, fetcher.requests.cpu);
    const memory = larger(server.requests.memory, fetcher.requests.memory);
    const memoryLimit = larger(server.limits.memory, fetcher.limits.memory);
    const dims: QuotaDimension[] = [
        {
            resource: "requests.cpu",
            key: "cpu",
            perPod: milliOf(cpu),
            quota: milliOf(q.cpu),
            perPodText: `${cpu} CPU request`,
            quotaText: `CPU request quota of ${q.cpu}`,
        },
        {
            resource: "requests.memory",
            key: "memory",
            perPod: milliOf(memory),
            quota: milliOf(q.memory),
            perPodText: `${memory} memory request`,
            quotaText: `memory request quota of ${q.memory}`,
        },
        {
            resource: "limits.memory",
            key: "memory",
            perPod: milliOf(memoryLimit),
            quota: milliOf(q.memory),
            perPodText: `${memoryLimit} memory limit`,
            quotaText: `memory limit quota of ${q.memory}`,
        },
        {
            resource: "pods",
            key: "pods",
            perPod: 1000,
            quota: q.pods * 1000,
            perPodText: "1 pod",
            quotaText: `pod quota of ${q.pods}`,
        },
    ];
    if (version.gpu > 0)
        dims.push({
            resource: "requests.nvidia.com/gpu",
            key: "gpu",
            perPod: version.gpu * 1000,
            quota: q.gpu * 1000,
            perPodText: `${version.gpu} GPU`,
            quotaText: `GPU quota of ${q.gpu}`,
        });
    return dims;
}

/** The most model-server pods a version's quota admits, and the quota dimension that limits them. */
export function podsQuotaAdmits(
    version: ModelVersionConfig,
    defaults: QuotaDefaults,
): { pods: number; limitedBy: QuotaDimension } {
    const dims = podQuotaDimensions(version, defaults);
    let best = { pods: Infinity, limitedBy: dims[0] };
    for (const d of dims) {
        const pods = Math.floor(d.quota / d.perPod);
        if (pods < best.pods) best = { pods, limitedBy: d };
    }
    return best;
}

/**
 * How a version rolls out and scales within its quota, for its deploy settings:
 * - `maxSurge`: 0 for a GPU version (its quota is usually exactly replicas × GPUs, so a surge pod would wait for a GPU
 *   the quota never admits, and on scale-from-zero pools it would also start a node), else 1 when the quota has room
 *   for one pod more than `replicas` (else 0: replace one at a time);
 * - `maxReplicas`: the HPA's maximum, HPA_MAX_REPLICAS_FACTOR × replicas capped by what the quota admits, minus the
 *   surge pod's room, and never below replicas.
 */
export function rolloutPlan(
    version: ModelVersionConfig,
    defaults: QuotaDefaults,
): { maxSurge: 0 | 1; maxReplicas: number } {
    const { pods } = podsQuotaAdmits(version, defaults);
    const maxSurge = version.gpu === 0 && pods >= version.replicas + 1 ? 1 : 0;
    const maxReplicas = Math.max(
        version.replicas,
        Math.min(version.replicas * HPA_MAX_REPLICAS_FACTOR, pods - maxSurge),
    );
    return { maxSurge, maxReplicas };
}

/** Namespace of one model version: `<model>-<version>`. */
export function modelNamespaceName(model: string, version: string): string {
    return `${model}-${version}`;
}

/** Live-traffic percent per version (every version listed, 0 for those not named); shadows get 0. */
export function trafficWeights(model: ModelConfig): Record<string, number> {
    const t = model.traffic;
    const out: Record<string, number> = {};
    for (const v of model.versions) {
        if (t.strategy === "shadow") out[v.name] = v.name === t.shadowOf ? 100 : 0;
        else if (t.weights) out[v.name] = t.weights[v.name] ?? 0;
        else out[v.name] = model.versions.length === 1 ? 100 : 0;
    }
    return out;
}

/** Versions that get a mirrored copy of live traffic (strategy shadow), else none. */
export function shadowVersions(model: ModelConfig): string[] {
    if (model.traffic.strategy !== "shadow") return [];
    return model.versions.map((v) => v.name).filter((n) => n !== model.traffic.shadowOf);
}

/**
 * Cross-field rules of `models` (with `quotaDefaults`) that a per-field schema cannot express. Returns every
 * problem at once, each naming the key and the fix.
 */
export function validateModels(models: readonly ModelConfig[], quotaDefaults: QuotaDefaults): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    const namespaces = new Map<string, string>();
    const modelNames = new Set<string>();
    models.forEach((m, mi) => {
        const mk = (...p: PropertyKey[]) => keyPath(["models", mi, ...p]);
        if (m.name !== "" && modelNames.has(m.name))
            issues.push({
                key: mk("name"),
                message: "duplicate model name; model names must be unique",
                value: m.name,
            });
        modelNames.add(m.name);
        const versionNames = m.versions.map((v) => v.name);
        // Versions whose name did not parse are reported by the schema; the list names only the others.
        const named = versionNames.filter((n) => n !== "");
        const list = named.length > 0 ? named.join(", ") : "none named yet";
        m.versions.forEach((v, vi) => {
            if (v.name !== "" && versionNames.indexOf(v.name) !== vi) {
                issues.push({
                    key: mk("versions", vi, "name"),
                    message: `duplicate version name within model "${m.name}"; version names must be unique per model`,
                    value: v.name,
                });
            }
            const ns = modelNamespaceName(m.name, v.name);
            const named = m.name !== "" && v.name !== "";
            if (named && ns.length > 63) {
                issues.push({
                    key: mk("versions", vi, "name"),
                    message: `namespace "${ns}" would be ${ns.length} characters; model and version names together (plus "-") must fit 63`,
                    value: v.name,
                });
            }
            if (named && (ns.startsWith("kube-") || RESERVED_NAMESPACES.includes(ns))) {
                issues.push({
                    key: mk("versions", vi, "name"),
                    message: `namespace "${ns}" is reserved (kube-*, ${RESERVED_NAMESPACES.join(", ")}); rename the model or the version`,
                    value: v.name,
                });
            }
            const other = namespaces.get(ns);
            if (named && other && other !== `${m.name}/${v.name}`) {
                issues.push({
                    key: mk("versions", vi, "name"),
                    message: `namespace "${ns}" collides with model/version ${other}; rename the model or the version`,
                    value: v.name,
                });
            }
            namespaces.set(ns, `${m.name}/${v.name}`);
            if (v.replicas > 0) {
                // Every quota dimension the replicas do not fit, so one run shows all of them.
                for (const d of podQuotaDimensions(v, quotaDefaults)) {
                    if (v.replicas * d.perPod <= d.quota) continue;
                    const gpu = d.key === "gpu";
                    issues.push({
                        key: mk("versions", vi, gpu ? "gpu" : "replicas"),
                        message: `${v.replicas} replicas × ${d.perPodText} exceed the namespace ${d.quotaText}; raise versions[${vi}].quota.${d.key} or quotaDefaults.${d.key}, or lower replicas${gpu ? "/gpu" : ""}`,
                        value: gpu ? v.gpu : v.replicas,
                    });
                }
            }
        });

        const t = m.traffic;
        if (t.strategy === UNPARSED_TRAFFIC) return;
        const tk = (k: string) => mk("traffic", k);
        if (t.weights) {
            for (const name of Object.keys(t.weights)) {
                if (!versionNames.includes(name)) {
                    issues.push({
                        key: `${tk("weights")}.${name}`,
                        message: `names no version of model "${m.name}"; its versions: ${list}`,
                        value: t.weights[name],
                    });
                }
            }
            const sum = Object.values(t.weights).reduce((a, b) => a + b, 0);
            if (sum !== 100)
                issues.push({
                    key: tk("weights"),
                    message: `weights are percent of live traffic and must sum to 100 (they sum to ${sum})`,
                    value: t.weights,
                });
        }
        const serving = t.weights ? Object.values(t.weights).filter((w) => w > 0).length : 0;
        switch (t.strategy) {
            case "single":
                if (serving > 1) {
                    issues.push({
                        key: tk("weights"),
                        message:
                            "strategy single sends all traffic to one version; give one version 100, or use canary to split",
                        value: t.weights,
                    });
                } else if (!t.weights && m.versions.length > 1) {
                    issues.push({
                        key: tk("weights"),
                        message: `strategy single with ${m.versions.length} versions must name the serving one: weights: { <version>: 100 }; versions: ${list}`,
                    });
                }
                break;
            case "canary":
            case "blue-green":
                if (m.versions.length < 2) {
                    issues.push({
                        key: mk("versions"),
                        message: `strategy ${t.strategy} needs at least two versions; use single for one`,
                    });
                }
                if (!t.weights) {
                    issues.push({
                        key: tk("weights"),
                        message: `is required for strategy ${t.strategy}: percent of live traffic per version, summing to 100, e.g. { v1: 90, v2: 10 }`,
                    });
                } else if (t.strategy === "blue-green" && serving > 1) {
                    issues.push({
                        key: tk("weights"),
                        message:
                            "strategy blue-green sends all traffic to one version (100) while the other stands by (0); use canary to split",
                        value: t.weights,
                    });
                }
                break;
            case "shadow":
                if (!t.shadowOf)
                    issues.push({
                        key: tk("shadowOf"),
                        message: `is required for strategy shadow: the version serving live traffic, whose requests are mirrored to the others; versions: ${list}`,
                    });
                else if (!versionNames.includes(t.shadowOf))
                    issues.push({
                        key: tk("shadowOf"),
                        message: `names no version of model "${m.name}"; its versions: ${list}`,
                        value: t.shadowOf,
                    });
                if (t.weights)
                    issues.push({
                        key: tk("weights"),
                        message: "does not apply to strategy shadow: shadowOf serves all live traffic; remove weights",
                        value: t.weights,
                    });
                if (m.versions.length < 2)
                    issues.push({
                        key: mk("versions"),
                        message: "strategy shadow needs at least two versions: the serving one and its shadow",
                    });
                break;
        }
        if (t.strategy !== "shadow" && t.shadowOf !== undefined) {
            issues.push({
                key: tk("shadowOf"),
                message: `only applies to strategy shadow (strategy is ${t.strategy}); remove it`,
                value: t.shadowOf,
            });
        }
    });
    return issues;
}

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * The parts of a raw `models` list that parse, for the cross-field rules when some field elsewhere fails: each
 * model keeps its name if that is text, the versions that parse (a version whose other fields fail keeps its name,
 * so name rules still run), and its traffic if that parses. A model whose traffic fails keeps none, so the rules
 * that need it are skipped rather than judged on a guess. Indexes are kept, so keys point at the raw entries.
 */
export function parseableModels(raw: unknown): ModelConfig[] | undefined {
    if (!Array.isArray(raw)) return undefined;
    return raw.map((m: unknown) => {
        const entry = isMap(m) ? m : {};
        const versions = (Array.isArray(entry.versions) ? entry.versions : []).map((v: unknown) => {
            const parsed = modelVersionSchema.safeParse(v);
            if (parsed.success) return parsed.data;
            // No replicas and no GPUs: the quota rules have nothing to judge on a version that did not parse.
            const name = isMap(v) && typeof v.name === "string" ? v.name : "";
            return { name, replicas: 0, gpu: 0, quota: {} };
        });
        const traffic = trafficSchema.safeParse(entry.traffic ?? { strategy: "single" });
        return {
            name: typeof entry.name === "string" ? entry.name : "",
            versions,
            traffic: traffic.success ? traffic.data : { strategy: UNPARSED_TRAFFIC },
        } as ModelConfig;
    });
}

/** Strategy of a model whose traffic section failed to parse: the traffic rules skip it. */
const UNPARSED_TRAFFIC = "unparsed" as TrafficStrategy;
