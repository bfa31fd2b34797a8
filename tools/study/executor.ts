/**
 * Runs one TaskRun of a PipelineRun with the cluster tier's step runner (tools/cluster/step-runner.ts): the rendered
 * Task with the run's workspace mounted at /workspace/<name> (Tekton's path), `$(context.*)` filled in, the service
 * account the run builder assigned, the in-cluster names of the monitoring services, model servers and store resolved
 * to their loopback addresses. What differs from the cluster, and is printed: build-image's buildah step does not
 * run (no container engine here); the image is the build context kept by digest (roles.ts, ImageStore).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Json } from "../../contract/json";
import { KUBE_STEP_PYTHONPATH } from "../../pipelines/core/context";
import type { Kube } from "../cluster/kube";
import { runTask, type TaskObject, type TaskResult } from "../cluster/step-runner";
import type { ImageStore } from "./roles";
import type { Executor, TaskOutcome } from "./pipeline-run";

export interface StepRecord {
    readonly run: string;
    readonly task: string;
    readonly step: string;
    readonly where: "control plane" | "this machine" | "not run";
    readonly exitCode: number | null;
    readonly seconds: number;
}

export interface ExecutorContext {
    readonly kube: Kube;
    readonly tasks: ReadonlyMap<string, TaskObject>;
    readonly namespace: string;
    readonly apiServerIp: string;
    readonly caFile: string;
    readonly pythonBin: string;
    readonly hosts: Readonly<Record<string, string>>;
    readonly extraEnv: Readonly<Record<string, string>>;
    /** The local step runtime (stepRuntime(), built before the study measures anything), mounted in every step. */
    readonly runtimeDir: string;
    readonly images: ImageStore;
    readonly imageRepository: string;
    readonly steps: StepRecord[];
    /** Directory of failed task logs. */
    readonly logDir: string;
}

const WORKSPACE_ROOT = "/workspace";

/** The Task as its TaskRun would run it: workspace paths and context variables substituted, workspaces as volumes. */
export function taskForRun(
    task: TaskObject,
    workspaces: Readonly<Record<string, string>>,
    context: { pipelineRun: string; taskRun: string },
): TaskObject {
    let text = JSON.stringify(task);
    for (const ws of Object.keys(workspaces))
        text = text.split(`$(workspaces.${ws}.path)`).join(`${WORKSPACE_ROOT}/${ws}`);
    text = text
        .split("$(context.pipelineRun.name)")
        .join(context.pipelineRun)
        .split("$(context.taskRun.name)")
        .join(context.taskRun);
    const t = JSON.parse(text) as TaskObject;
    const tpl = (t.spec.stepTemplate ??= {} as never) as { volumeMounts?: { name: string; mountPath: string }[] };
    for (const ws of Object.keys(workspaces)) {
        (t.spec.volumes ??= []).push({ name: `workspace-${ws}`, emptyDir: {} });
        (tpl.volumeMounts ??= []).push({ name: `workspace-${ws}`, mountPath: `${WORKSPACE_ROOT}/${ws}` });
    }
    return t;
}

/** An executor for one PipelineRun: its service accounts per task and its workspace directories. */
export function executorFor(
    ctx: ExecutorContext,
    run: {
        name: string;
        serviceAccounts: Readonly<Record<string, string>>;
        workspaceDirs: Readonly<Record<string, string>>;
    },
): Executor {
    return async (req): Promise<TaskOutcome> => {
        const task = ctx.tasks.get(req.taskRef);
        if (!task) throw new Error(`no Task ${req.taskRef} in the plan`);
        const workspaces = Object.fromEntries(
            Object.entries(req.workspaces).map(([taskWs, pipelineWs]) => [taskWs, run.workspaceDirs[pipelineWs]]),
        );
        const taskRunName = `${run.name}-${req.pipelineTask}`;
        const t = taskForRun(task, workspaces, { pipelineRun: run.name, taskRun: taskRunName });
        const isBuild = t.spec.steps.some((s) => s.name === "build-push");
        // buildah needs a container engine, which this machine does not have.
        const skip = isBuild ? ["build-push"] : [];
        const started = Date.now();
        const r: TaskResult = await runTask(ctx.kube, {
            task: t,
            params: req.params,
            namespace: ctx.namespace,
            serviceAccount: run.serviceAccounts[req.pipelineTask],
            apiServerIp: ctx.apiServerIp,
            caFile: ctx.caFile,
            pythonBin: ctx.pythonBin,
            runtimeDir: ctx.runtimeDir,
            hosts: ctx.hosts,
            extraEnv: ctx.extraEnv,
            volumeDirs: Object.fromEntries(Object.entries(workspaces).map(([ws, dir]) => [`workspace-${ws}`, dir])),
            // The labels Tekton puts on a TaskRun's pod: the steps read them through the downward API (stage
            // durations carry `run` and `task` from them).
            podLabels: { "tekton.dev/pipelineRun": run.name, "tekton.dev/pipelineTask": req.pipelineTask },
            taskRunName,
            skipSteps: skip,
            timeoutMs: 300_000,
        });
        const seconds = (Date.now() - started) / 1000;
        for (const s of t.spec.steps) {
            const ran = r.steps.find((x) => x.step === s.name);
            // API-facing: the step imports the runtime's Kubernetes client (kubeStep in pipelines/core/context.ts).
            const apiFacing = (s.env ?? []).some((e) => e.name === "PYTHONPATH" && e.value === KUBE_STEP_PYTHONPATH);
            ctx.steps.push({
                run: run.name,
                task: req.pipelineTask,
                step: s.name ?? "",
                where: ran ? (apiFacing ? "control plane" : "this machine") : "not run",
                exitCode: ran?.exitCode ?? null,
                seconds: ran ? seconds / r.steps.length : 0,
            });
        }
        const results: Record<string, string> = { ...r.results };
        let ok = r.exitCode === 0;
        if (ok && isBuild) {
            const context = path.join(workspaces.source, "image");
            const digest = ctx.images.add(context);
            results.image = `${ctx.imageRepository}@sha256:${digest}`;
        }
        if (!ok) {
            fs.mkdirSync(ctx.logDir, { recursive: true });
            fs.writeFileSync(
                path.join(ctx.logDir, `${run.name}-${req.pipelineTask}.log`),
                `${r.stdout}\n--- stderr ---\n${r.stderr}`,
            );
        }
        ok = ok && true;
        return { succeeded: ok, results };
    };
}

/** The service account of each pipeline task, from the PipelineRun's taskRunSpecs (the run builder's assignment). */
export function serviceAccountsOf(pipelineRun: Record<string, Json>): Record<string, string> {
    const def = pipelineRun.spec.taskRunTemplate?.serviceAccountName as string;
    const out: Record<string, string> = {};
    for (const s of pipelineRun.spec.taskRunSpecs ?? []) out[s.pipelineTaskName] = s.serviceAccountName ?? def;
    return new Proxy(out, { get: (o, k: string) => o[k] ?? def });
}
