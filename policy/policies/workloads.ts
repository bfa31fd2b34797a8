/**
 * Pods, wherever they are declared (Kubernetes workloads, Tekton steps, Helm values): images pinned to a tag or a
 * digest, charts pinned to a version, no privileged container outside an allowlist of system DaemonSets, CPU and
 * memory requests on every container, and GPU workloads tolerating the GPU nodes' taint.
 */
import type { ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { GPU_NODE_LABELS, GPU_TAINT } from "../../contract/scheduling";
import { isExactChartVersion, unpinnedReason, valuesImageProblems } from "../lib/images";
import { podSpecsOf, type PodSpecView, type Scheduling } from "../lib/pod-specs";
import { asArray, chartName, HELM_RELEASE_TYPES, isRecord, kubernetesKind, objectRef } from "../lib/resources";
import { isGpuResourceName } from "./model-namespaces";
import type { Json } from "../../contract/json";

export { GPU_TAINT };
/** The label GPU nodes are selected by (every platform that builds nodes sets it, with the taint). */
export const GPU_NODE_LABEL = "nvidia.com/gpu.present" satisfies keyof typeof GPU_NODE_LABELS;

/** System DaemonSets that may run privileged containers (`namespace/name`, `*` at the end matches any suffix). */
export const DEFAULT_PRIVILEGED_DAEMONSETS: readonly string[] = [
    "kube-system/aws-node",
    "kube-system/kube-proxy",
    "kube-system/ebs-csi-node",
    "kube-system/nvidia-device-plugin*",
    "monitoring/*dcgm-exporter*",
];
/** Charts whose privileged pods are system DaemonSets of that list (their values may set privileged). */
export const DEFAULT_PRIVILEGED_CHARTS: readonly string[] = ["nvidia-device-plugin", "dcgm-exporter"];

const where = (v: PodSpecView, c?: { role: string; name: string }) =>
    `${v.kind} ${v.where}${c ? ` ${c.role} ${c.name}` : ""}`;

function helmValues(args: ResourceValidationArgs): Record<string, unknown> | undefined {
    return HELM_RELEASE_TYPES.includes(args.type) && isRecord(args.props.values) ? args.props.values : undefined;
}

export const imagesPinned: ResourceValidationPolicy = {
    name: "images-pinned",
    description:
        "Every container image is pinned to a tag (not latest or another moving tag) or a digest, in pod specs, Tekton steps and Helm values.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        for (const v of podSpecsOf(args.type, args.props)) {
            for (const c of v.containers) {
                if (c.role === "step" && c.image === undefined) continue; // runs a StepAction, which names its own image
                const reason = unpinnedReason(c.image);
                if (reason) reportViolation(`${args.type} ${objectRef(args.props)}: ${where(v, c)} image ${reason}.`);
            }
        }
        const values = helmValues(args);
        for (const p of values ? valuesImageProblems(values) : [])
            reportViolation(`${args.type} ${args.name}: ${p.path} ${p.reason}.`);
    },
};

export const helmChartsPinned: ResourceValidationPolicy = {
    name: "helm-charts-pinned",
    description:
        "Every Helm chart is installed at an exact version (the chart version pins the images it defaults to).",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (!HELM_RELEASE_TYPES.includes(args.type)) return;
        if (!isExactChartVersion(args.props.version)) {
            reportViolation(
                `${args.type} ${args.name}: chart ${args.props.chart} has no exact version (version ${JSON.stringify(args.props.version ?? null)}).`,
            );
        }
    },
};

interface PrivilegeConfig {
    privilegedDaemonSets?: string[];
    privilegedCharts?: string[];
}

const globMatch = (pattern: string, value: string) =>
    new RegExp(
        `^${pattern
            .split("*")
            .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
            .join(".*")}$`,
    ).test(value);

/** Why a container is privileged: privileged mode, or the capabilities that amount to it. */
function privilegeOf(sc: Record<string, Json>): string | undefined {
    if (sc.privileged === true) return "privileged: true";
    const added = asArray(sc.capabilities?.add).map(String);
    const strong = added.filter((c) => ["ALL", "SYS_ADMIN", "CAP_SYS_ADMIN"].includes(c.toUpperCase()));
    return strong.length > 0 ? `capabilities.add ${strong.join(", ")}` : undefined;
}

/** `privileged: true` anywhere in Helm values. */
function privilegedValuePaths(values: unknown, path = "values"): string[] {
    if (Array.isArray(values)) return values.flatMap((v, i) => privilegedValuePaths(v, `${path}[${i}]`));
    if (!isRecord(values)) return [];
    return Object.entries(values).flatMap(([k, v]) =>
        k === "privileged" && v === true ? [`${path}.${k}`] : privilegedValuePaths(v, `${path}.${k}`),
    );
}

export const noPrivilegedContainers: ResourceValidationPolicy = {
    name: "no-privileged-containers",
    description:
        "No container runs privileged (or with ALL / SYS_ADMIN capabilities) except in the allowlisted system DaemonSets and their charts.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            privilegedDaemonSets: {
                type: "array",
                items: { type: "string" },
                default: [...DEFAULT_PRIVILEGED_DAEMONSETS],
                description: "namespace/name of DaemonSets allowed privileged containers; * matches any characters.",
            },
            privilegedCharts: {
                type: "array",
                items: { type: "string" },
                default: [...DEFAULT_PRIVILEGED_CHARTS],
                description: "Charts whose values may set privileged (they install those DaemonSets).",
            },
        },
    },
    validateResource: (args, reportViolation) => {
        const config = args.getConfig<PrivilegeConfig>();
        const daemonSets = config.privilegedDaemonSets ?? DEFAULT_PRIVILEGED_DAEMONSETS;
        const charts = config.privilegedCharts ?? DEFAULT_PRIVILEGED_CHARTS;
        const k = kubernetesKind(args.type);
        const allowed =
            k?.group === "apps" &&
            k.kind === "DaemonSet" &&
            daemonSets.some((p) => globMatch(p, objectRef(args.props)));
        if (!allowed) {
            for (const v of podSpecsOf(args.type, args.props)) {
                for (const c of v.containers) {
                    const why = privilegeOf(c.securityContext);
                    if (why)
                        reportViolation(
                            `${args.type} ${objectRef(args.props)}: ${where(v, c)} is privileged (${why}); only allowlisted system DaemonSets may be.`,
                        );
                }
            }
        }
        const values = helmValues(args);
        if (values && !charts.includes(chartName(args.props))) {
            for (const p of privilegedValuePaths(values))
                reportViolation(
                    `${args.type} ${args.name}: ${p} makes a container of chart ${args.props.chart} privileged; it is not an allowlisted system chart.`,
                );
        }
    },
};

export const podResourceRequests: ResourceValidationPolicy = {
    name: "pod-resource-requests",
    description: "Every container of every pod spec (and every Tekton step and sidecar) requests CPU and memory.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        for (const v of podSpecsOf(args.type, args.props)) {
            for (const c of v.containers) {
                const missing = ["cpu", "memory"].filter(
                    (r) => c.requests[r] === undefined || c.requests[r] === null || c.requests[r] === "",
                );
                if (missing.length > 0)
                    reportViolation(
                        `${args.type} ${objectRef(args.props)}: ${where(v, c)} has no ${missing.join(" or ")} request.`,
                    );
            }
        }
    },
};

/** Whether a toleration tolerates the GPU taint. */
export function toleratesGpuTaint(t: Json): boolean {
    if (!isRecord(t)) return false;
    const effectOk = t.effect === undefined || t.effect === "" || t.effect === GPU_TAINT.effect;
    if (t.operator === "Exists") return effectOk && (t.key === undefined || t.key === "" || t.key === GPU_TAINT.key);
    return (
        effectOk &&
        t.key === GPU_TAINT.key &&
        (t.operator === undefined || t.operator === "Equal") &&
        t.value === GPU_TAINT.value
    );
}

/** Whether a node affinity (required or preferred) asks for GPU nodes: the GPU label with In or Exists. */
function affinityWantsGpuNodes(affinity: unknown): boolean {
    const node = isRecord(affinity) && isRecord(affinity.nodeAffinity) ? affinity.nodeAffinity : {};
    const terms = [
        ...asArray(node.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms),
        ...asArray(node.preferredDuringSchedulingIgnoredDuringExecution).map((p) => p?.preference),
    ];
    return terms.some((t) =>
        asArray(t?.matchExpressions).some(
            (e) =>
                e?.key === GPU_NODE_LABEL &&
                (e.operator === "Exists" || (e.operator === "In" && asArray(e.values).includes("true"))),
        ),
    );
}

/** Why a pod goes to GPU nodes (it requests GPUs or selects GPU nodes), or undefined. */
function gpuReason(v: PodSpecView, s: Scheduling): string | undefined {
    const gpu = v.containers
        .flatMap((c) => [...Object.keys(c.requests), ...Object.keys(c.limits)])
        .find(isGpuResourceName);
    if (gpu) return `requests ${gpu}`;
    if (GPU_NODE_LABEL in s.nodeSelector || affinityWantsGpuNodes(s.affinity))
        return `selects GPU nodes (${GPU_NODE_LABEL})`;
    return undefined;
}

/** Objects in Helm values that place pods on GPU nodes (a nodeSelector, affinity or GPU resources) without tolerating the taint. */
function untoleratedGpuValues(values: unknown, path = "values"): string[] {
    if (Array.isArray(values)) return values.flatMap((v, i) => untoleratedGpuValues(v, `${path}[${i}]`));
    if (!isRecord(values)) return [];
    const out: string[] = [];
    const resources = isRecord(values.resources) ? values.resources : {};
    const gpuResources = [resources.limits, resources.requests].some(
        (r) => isRecord(r) && Object.keys(r).some(isGpuResourceName),
    );
    const targetsGpu =
        (isRecord(values.nodeSelector) && GPU_NODE_LABEL in values.nodeSelector) ||
        affinityWantsGpuNodes(values.affinity) ||
        gpuResources;
    if (targetsGpu && !asArray(values.tolerations).some(toleratesGpuTaint)) out.push(path);
    for (const [k, v] of Object.entries(values)) out.push(...untoleratedGpuValues(v, `${path}.${k}`));
    return out;
}

export const gpuWorkloadsTolerateTaint: ResourceValidationPolicy = {
    name: "gpu-workloads-tolerate-gpu-taint",
    description: `Every pod that requests a GPU or selects GPU nodes tolerates their taint (${GPU_TAINT.key}=${GPU_TAINT.value}:${GPU_TAINT.effect}); otherwise it never schedules.`,
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        for (const v of podSpecsOf(args.type, args.props)) {
            if (!v.scheduling) continue; // a Tekton definition: the run's pod template carries the tolerations
            const reason = gpuReason(v, v.scheduling);
            if (reason && !v.scheduling.tolerations.some(toleratesGpuTaint)) {
                reportViolation(
                    `${args.type} ${objectRef(args.props)}: ${where(v)} ${reason} but does not tolerate the GPU taint ${GPU_TAINT.key}=${GPU_TAINT.value}:${GPU_TAINT.effect}.`,
                );
            }
        }
        const values = helmValues(args);
        for (const p of values ? untoleratedGpuValues(values) : []) {
            reportViolation(
                `${args.type} ${args.name}: ${p} places pods on GPU nodes without tolerating the GPU taint ${GPU_TAINT.key}.`,
            );
        }
    },
};

export const workloadPolicies = [
    imagesPinned,
    helmChartsPinned,
    noPrivilegedContainers,
    podResourceRequests,
    gpuWorkloadsTolerateTaint,
];
