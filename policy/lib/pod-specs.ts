/**
 * Every pod spec a resource defines, seen the same way whatever holds it: Pods, workload controllers (Deployment,
 * StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob, PodTemplate) and Tekton objects (Task,
 * ClusterTask and Pipeline steps and sidecars, TaskRun and PipelineRun with their pod templates, and the runs a
 * TriggerTemplate creates).
 */
import type { PodTemplate } from "./pod-security";
import { asArray, isRecord, kubernetesKind } from "./resources";
import type { Json } from "../../contract/json";

/** One container of a pod spec (a Tekton step or sidecar is one too). */
export interface ContainerView {
    readonly role: "container" | "initContainer" | "ephemeralContainer" | "step" | "sidecar";
    readonly name: string;
    /** The image reference; undefined for a Tekton step that runs a StepAction (`ref`). */
    readonly image: unknown;
    readonly requests: Record<string, unknown>;
    readonly limits: Record<string, unknown>;
    readonly securityContext: Record<string, Json>;
    readonly env: Json[];
}

/** Where a pod lands: known for pods and controllers and for Tekton runs, decided at run time for Tekton definitions. */
export interface Scheduling {
    readonly tolerations: Json[];
    readonly nodeSelector: Record<string, unknown>;
    readonly affinity: Record<string, Json>;
}

export interface PodSpecView {
    /** Path of the pod spec in the object, for messages ("spec.template.spec", "spec.steps"). */
    readonly where: string;
    /** Kind of the object holding it. */
    readonly kind: string;
    readonly containers: ContainerView[];
    /** Undefined when the object cannot say (a Tekton Task: the run's pod template places it). */
    readonly scheduling: Scheduling | undefined;
    /** The pod as written (metadata and spec) for Kubernetes workloads; undefined for Tekton objects, whose pods
     * Tekton builds at run time. */
    readonly pod: PodTemplate | undefined;
}

const CONTROLLERS = new Set([
    "apps:Deployment",
    "apps:StatefulSet",
    "apps:DaemonSet",
    "apps:ReplicaSet",
    ":ReplicationController",
    "batch:Job",
]);

function resourcesOf(r: unknown): { requests: Record<string, unknown>; limits: Record<string, unknown> } {
    const res = isRecord(r) ? r : {};
    return { requests: isRecord(res.requests) ? res.requests : {}, limits: isRecord(res.limits) ? res.limits : {} };
}

function container(role: ContainerView["role"], c: Json): ContainerView {
    return {
        role,
        name: String(c?.name ?? "?"),
        image: c?.image,
        ...resourcesOf(c?.resources),
        securityContext: isRecord(c?.securityContext) ? c.securityContext : {},
        env: asArray(c?.env),
    };
}

function schedulingOf(spec: Record<string, Json>): Scheduling {
    return {
        tolerations: asArray(spec.tolerations),
        nodeSelector: isRecord(spec.nodeSelector) ? spec.nodeSelector : {},
        affinity: isRecord(spec.affinity) ? spec.affinity : {},
    };
}

function podSpec(kind: string, where: string, spec: unknown, metadata: unknown): PodSpecView[] {
    if (!isRecord(spec)) return [];
    return [
        {
            where,
            kind,
            pod: { metadata: isRecord(metadata) ? metadata : {}, spec },
            containers: [
                ...asArray(spec.initContainers).map((c) => container("initContainer", c)),
                ...asArray(spec.containers).map((c) => container("container", c)),
                ...asArray(spec.ephemeralContainers).map((c) => container("ephemeralContainer", c)),
            ],
            scheduling: schedulingOf(spec),
        },
    ];
}

/** Tekton step or sidecar: `computeResources` (v1) or `resources` (v1beta1), over the Task's `stepTemplate`. */
function tektonContainer(role: "step" | "sidecar", c: Json, template: Json): ContainerView {
    const own = resourcesOf(c?.computeResources ?? c?.resources);
    const base =
        role === "step" ? resourcesOf(template?.computeResources ?? template?.resources) : { requests: {}, limits: {} };
    const sc = {
        ...(role === "step" && isRecord(template?.securityContext) ? template.securityContext : {}),
        ...(isRecord(c?.securityContext) ? c.securityContext : {}),
    };
    return {
        role,
        name: String(c?.name ?? "?"),
        image: c?.ref ? undefined : (c?.image ?? (role === "step" ? template?.image : undefined)),
        requests: { ...base.requests, ...own.requests },
        limits: { ...base.limits, ...own.limits },
        securityContext: sc,
        env: [...(role === "step" ? asArray(template?.env) : []), ...asArray(c?.env)],
    };
}

function taskSpec(kind: string, where: string, spec: unknown, scheduling: Scheduling | undefined): PodSpecView[] {
    if (!isRecord(spec)) return [];
    return [
        {
            where,
            kind,
            containers: [
                ...asArray(spec.steps).map((s) => tektonContainer("step", s, spec.stepTemplate)),
                ...asArray(spec.sidecars).map((s) => tektonContainer("sidecar", s, spec.stepTemplate)),
            ],
            scheduling,
            pod: undefined,
        },
    ];
}

function podTemplateScheduling(podTemplate: unknown): Scheduling | undefined {
    return isRecord(podTemplate) ? schedulingOf(podTemplate) : undefined;
}

/** Embedded task specs of a pipeline spec; `scheduling` gives each pipeline task's placement (run objects only). */
function pipelineSpec(
    kind: string,
    where: string,
    spec: unknown,
    scheduling: (task: string) => Scheduling | undefined,
): PodSpecView[] {
    if (!isRecord(spec)) return [];
    const out: PodSpecView[] = [];
    for (const list of ["tasks", "finally"] as const) {
        asArray(spec[list]).forEach((t, i) =>
            out.push(
                ...taskSpec(kind, `${where}.${list}[${i}].taskSpec`, t?.taskSpec, scheduling(String(t?.name ?? ""))),
            ),
        );
    }
    return out;
}

/** Pod specs of a resource given its type token and properties (inputs or outputs). */
export function podSpecsOf(type: string, props: Record<string, Json>): PodSpecView[] {
    const k = kubernetesKind(type);
    if (!k) return [];
    const key = `${k.group}:${k.kind}`;
    const spec = isRecord(props.spec) ? props.spec : {};
    if (key === ":Pod") return podSpec(k.kind, "spec", props.spec, props.metadata);
    if (CONTROLLERS.has(key))
        return podSpec(k.kind, "spec.template.spec", spec.template?.spec, spec.template?.metadata);
    if (key === ":PodTemplate") return podSpec(k.kind, "template.spec", props.template?.spec, props.template?.metadata);
    if (key === "batch:CronJob") {
        const template = spec.jobTemplate?.spec?.template;
        return podSpec(k.kind, "spec.jobTemplate.spec.template.spec", template?.spec, template?.metadata);
    }
    if (key === "tekton.dev:Task" || key === "tekton.dev:ClusterTask") return taskSpec(k.kind, "spec", spec, undefined);
    if (key === "tekton.dev:Pipeline") return pipelineSpec(k.kind, "spec", spec, () => undefined);
    if (key === "tekton.dev:TaskRun")
        return taskSpec(
            k.kind,
            "spec.taskSpec",
            spec.taskSpec,
            podTemplateScheduling(spec.podTemplate) ?? schedulingOf({}),
        );
    if (key === "tekton.dev:PipelineRun") {
        const common = spec.taskRunTemplate?.podTemplate ?? spec.podTemplate;
        const perTask = new Map<string, unknown>(
            asArray(spec.taskRunSpecs).map((s) => [String(s?.pipelineTaskName), s?.podTemplate]),
        );
        return pipelineSpec(
            k.kind,
            "spec.pipelineSpec",
            spec.pipelineSpec,
            (task) => podTemplateScheduling(perTask.get(task) ?? common) ?? schedulingOf({}),
        );
    }
    if (key === "triggers.tekton.dev:TriggerTemplate") {
        return asArray(spec.resourcetemplates).flatMap((t, i) =>
            isRecord(t) && typeof t.apiVersion === "string" && typeof t.kind === "string"
                ? podSpecsOf(
                      `kubernetes:${t.apiVersion.includes("/") ? t.apiVersion : `core/${t.apiVersion}`}:${t.kind}`,
                      t,
                  ).map((v) => ({
                      ...v,
                      where: `spec.resourcetemplates[${i}].${v.where}`,
                  }))
                : [],
        );
    }
    return [];
}
