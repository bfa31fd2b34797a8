/**
 * Builds PipelineRuns: which service account runs each task (from the Task's role label), the workspace, and GPU
 * scheduling for GPU-capable tasks when the run trains on GPUs. Used by `npm run pipelinerun` and by anything that
 * starts runs (triggers).
 */
import { PIPELINES_NAMESPACE, PIPELINE_SERVICE_ACCOUNTS } from "../../contract/names";
import type { GpuScheduling } from "../../contract/platform";
import { GPU_CAPABLE_LABEL, GPU_STEP_LABEL, RESOURCES, ROLE_LABEL } from "./context";
import type { Pipeline, PipelineRun, TaskLike, TaskRunSpec } from "./tekton";

export interface RunOptions {
    /** Param values; pipeline params with defaults may be left out. */
    readonly params: Readonly<Record<string, string>>;
    /** GPUs for GPU-capable tasks (0: CPU). */
    readonly trainingGpus: number;
    /** GPU node selector and tolerations of the platform. */
    readonly gpuScheduling: Pick<GpuScheduling, "nodeSelector" | "tolerations" | "resourceName">;
    /** Size of the per-run scratch volume. */
    readonly workspaceSize?: string;
    /** StorageClass of the per-run scratch volume (the platform's); null or absent: the cluster's default. */
    readonly storageClass?: string | null;
}

export class RunError extends Error {}

export function pipelineRun(pipeline: Pipeline, tasks: readonly TaskLike[], opts: RunOptions): PipelineRun {
    const byName = new Map(tasks.map((t) => [t.metadata.name, t]));
    const declared = new Set((pipeline.spec.params ?? []).map((p) => p.name));
    const unknown = Object.keys(opts.params).filter((k) => !declared.has(k));
    if (unknown.length > 0)
        throw new RunError(
            `pipeline ${pipeline.metadata.name} has no param ${unknown.join(", ")}; params: ${[...declared].join(", ")}`,
        );
    const missing = (pipeline.spec.params ?? [])
        .filter((p) => p.default === undefined && opts.params[p.name] === undefined)
        .map((p) => p.name);
    if (missing.length > 0)
        throw new RunError(
            `pipeline ${pipeline.metadata.name} needs --param ${missing.map((m) => `${m}=...`).join(" --param ")}`,
        );

    const specs: TaskRunSpec[] = [...pipeline.spec.tasks, ...(pipeline.spec.finally ?? [])].map((pt) => {
        const task = byName.get(pt.taskRef.name);
        if (!task)
            throw new RunError(`pipeline ${pipeline.metadata.name} uses task ${pt.taskRef.name}, which is not defined`);
        const sa = task.metadata.labels?.[ROLE_LABEL] ?? PIPELINE_SERVICE_ACCOUNTS.trainer.name;
        const gpuStep = task.metadata.annotations?.[GPU_STEP_LABEL];
        if (opts.trainingGpus > 0 && task.metadata.labels?.[GPU_CAPABLE_LABEL] === "true" && gpuStep) {
            const base = task.spec.steps.find((s) => s.name === gpuStep)?.computeResources ?? RESOURCES.training;
            return {
                pipelineTaskName: pt.name,
                serviceAccountName: sa,
                podTemplate: {
                    nodeSelector: { ...opts.gpuScheduling.nodeSelector },
                    tolerations: opts.gpuScheduling.tolerations.map((t) => ({ ...t })),
                },
                stepSpecs: [
                    {
                        name: gpuStep,
                        computeResources: {
                            requests: { ...base.requests },
                            limits: {
                                ...(base.limits ?? {}),
                                [opts.gpuScheduling.resourceName]: String(opts.trainingGpus),
                            },
                        },
                    },
                ],
            };
        }
        return { pipelineTaskName: pt.name, serviceAccountName: sa };
    });
    const usesWorkspace = (pipeline.spec.workspaces ?? []).length > 0;
    // The tasks of a run share one ReadWriteOnce volume, so Tekton's affinity assistant keeps them on one node: a
    // run that trains on a GPU runs wholly on a GPU node (the assistant takes the run's pod template).
    const onGpu = specs.some((s) => s.stepSpecs !== undefined);
    const gpuPlacement = {
        nodeSelector: { ...opts.gpuScheduling.nodeSelector },
        tolerations: opts.gpuScheduling.tolerations.map((t) => ({ ...t })),
    };
    return {
        apiVersion: "tekton.dev/v1",
        kind: "PipelineRun",
        metadata: {
            generateName: `${pipeline.metadata.name}-`,
            namespace: PIPELINES_NAMESPACE,
            labels: { "app.kubernetes.io/part-of": "mlops-testbed" },
        },
        spec: {
            pipelineRef: { name: pipeline.metadata.name },
            params: Object.entries(opts.params).map(([name, value]) => ({ name, value })),
            workspaces: usesWorkspace
                ? [
                      {
                          name: "source",
                          volumeClaimTemplate: {
                              spec: {
                                  ...(opts.storageClass ? { storageClassName: opts.storageClass } : {}),
                                  accessModes: ["ReadWriteOnce"],
                                  resources: { requests: { storage: opts.workspaceSize ?? "2Gi" } },
                              },
                          },
                      },
                  ]
                : [],
            taskRunTemplate: {
                serviceAccountName: PIPELINE_SERVICE_ACCOUNTS.trainer.name,
                ...(onGpu ? { podTemplate: gpuPlacement } : {}),
            },
            taskRunSpecs: specs,
        },
    };
}
