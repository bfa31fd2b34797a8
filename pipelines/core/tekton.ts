/**
 * Typed Tekton v1 objects (only the fields the testbed uses) and the helpers that render them. Tasks, Pipelines and
 * PipelineRuns are plain data: the Tekton component applies them as custom resources, the tests lint and wire-check
 * them, and the run builder (pipelines/core/runs.ts) starts them.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export const TEKTON_API_VERSION = "tekton.dev/v1";

export type ParamType = "string" | "array" | "object";

export interface ParamSpec {
    readonly name: string;
    readonly type?: ParamType;
    readonly description: string;
    /** Absent: the param is required. */
    readonly default?: string;
}

export interface ResultSpec {
    readonly name: string;
    readonly description: string;
}

export interface WorkspaceDeclaration {
    readonly name: string;
    readonly description: string;
    readonly optional?: boolean;
    readonly readOnly?: boolean;
}

export interface EnvVar {
    readonly name: string;
    readonly value?: string;
    readonly valueFrom?: { readonly fieldRef?: { readonly fieldPath: string } };
}

export interface EnvFromSource {
    readonly configMapRef?: { readonly name: string; readonly optional?: boolean };
    readonly secretRef?: { readonly name: string; readonly optional?: boolean };
}

export interface ComputeResources {
    readonly requests: Readonly<Record<string, string>>;
    readonly limits?: Readonly<Record<string, string>>;
}

export interface VolumeMount {
    readonly name: string;
    readonly mountPath: string;
    readonly readOnly?: boolean;
}

export interface SecurityContext {
    readonly runAsNonRoot?: boolean;
    readonly runAsUser?: number;
    readonly allowPrivilegeEscalation?: boolean;
    readonly capabilities?: { readonly add?: readonly string[]; readonly drop?: readonly string[] };
    readonly seccompProfile?: { readonly type: "RuntimeDefault" };
}

export interface Step {
    readonly name: string;
    readonly image: string;
    /** The step's program; starts with a #! line. */
    readonly script: string;
    readonly args?: readonly string[];
    readonly env?: readonly EnvVar[];
    readonly workingDir?: string;
    readonly computeResources: ComputeResources;
    readonly volumeMounts?: readonly VolumeMount[];
    readonly securityContext?: SecurityContext;
    readonly timeout?: string;
}

export interface StepTemplate {
    readonly env?: readonly EnvVar[];
    readonly envFrom?: readonly EnvFromSource[];
    readonly volumeMounts?: readonly VolumeMount[];
}

export interface Volume {
    readonly name: string;
    readonly emptyDir?: Record<string, never>;
    /** A ConfigMap's keys as files; `items` places chosen keys at relative paths (subdirectories allowed). */
    readonly configMap?: {
        readonly name: string;
        readonly items?: readonly { readonly key: string; readonly path: string }[];
    };
}

export interface ObjectMeta {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
}

export interface Task {
    readonly apiVersion: typeof TEKTON_API_VERSION;
    readonly kind: "Task";
    readonly metadata: ObjectMeta;
    readonly spec: {
        readonly description: string;
        readonly params?: readonly ParamSpec[];
        readonly results?: readonly ResultSpec[];
        readonly workspaces?: readonly WorkspaceDeclaration[];
        readonly stepTemplate?: StepTemplate;
        readonly steps: readonly Step[];
        readonly volumes?: readonly Volume[];
    };
}

/**
 * What the run builder and the wiring checks need of a Task: its labels, params, results, workspaces and step
 * names. Tasks built elsewhere (the `promote` Task, whose step runs a command rather than a script) are TaskLike.
 */
export interface TaskLike {
    readonly metadata: ObjectMeta;
    readonly spec: {
        readonly params?: readonly ParamSpec[];
        readonly results?: readonly { readonly name: string }[];
        readonly workspaces?: readonly WorkspaceDeclaration[];
        readonly steps: readonly { readonly name: string; readonly computeResources: ComputeResources }[];
    };
}

export interface Param {
    readonly name: string;
    readonly value: string;
}

export interface WhenExpression {
    readonly input: string;
    readonly operator: "in" | "notin";
    readonly values: readonly string[];
}

export interface PipelineTask {
    readonly name: string;
    readonly taskRef: { readonly name: string; readonly kind?: "Task" };
    readonly params?: readonly Param[];
    readonly workspaces?: readonly { readonly name: string; readonly workspace: string; readonly subPath?: string }[];
    readonly runAfter?: readonly string[];
    readonly when?: readonly WhenExpression[];
    readonly timeout?: string;
}

export interface PipelineResult {
    readonly name: string;
    readonly description: string;
    readonly value: string;
}

export interface Pipeline {
    readonly apiVersion: typeof TEKTON_API_VERSION;
    readonly kind: "Pipeline";
    readonly metadata: ObjectMeta;
    readonly spec: {
        readonly description: string;
        readonly params?: readonly ParamSpec[];
        readonly workspaces?: readonly WorkspaceDeclaration[];
        readonly tasks: readonly PipelineTask[];
        readonly finally?: readonly PipelineTask[];
        readonly results?: readonly PipelineResult[];
    };
}

export interface PodTemplate {
    readonly nodeSelector?: Readonly<Record<string, string>>;
    readonly tolerations?: readonly Readonly<Record<string, unknown>>[];
}

export interface TaskRunSpec {
    readonly pipelineTaskName: string;
    readonly serviceAccountName?: string;
    readonly podTemplate?: PodTemplate;
    readonly stepSpecs?: readonly { readonly name: string; readonly computeResources: ComputeResources }[];
}

export interface PipelineRun {
    readonly apiVersion: typeof TEKTON_API_VERSION;
    readonly kind: "PipelineRun";
    readonly metadata: {
        readonly generateName: string;
        readonly namespace: string;
        readonly labels?: Readonly<Record<string, string>>;
    };
    readonly spec: {
        readonly pipelineRef: { readonly name: string };
        readonly params: readonly Param[];
        readonly workspaces: readonly Readonly<Record<string, unknown>>[];
        readonly taskRunTemplate: { readonly serviceAccountName: string; readonly podTemplate?: PodTemplate };
        readonly taskRunSpecs: readonly TaskRunSpec[];
    };
}

export type TektonObject = Task | Pipeline | PipelineRun;

/** `$(params.<name>)` */
export const param = (name: string) => `$(params.${name})`;
/** `$(tasks.<task>.results.<result>)` */
export const taskResult = (task: string, result: string) => `$(tasks.${task}.results.${result})`;
/** `$(results.<name>.path)`: where a step writes a result. */
export const resultPath = (name: string) => `$(results.${name}.path)`;
/** `$(workspaces.<name>.path)` */
export const workspacePath = (name: string) => `$(workspaces.${name}.path)`;

/** Reads a step script that lives next to its task definition. */
export function readScript(dir: string, file: string): string {
    const text = fs.readFileSync(path.join(dir, file), "utf8");
    if (!text.startsWith("#!")) throw new Error(`${path.join(dir, file)} must start with a #! line`);
    return text;
}

/** Passes every param of a list through unchanged (a pipeline param of the same name). */
export function passParams(names: readonly string[]): Param[] {
    return names.map((name) => ({ name, value: param(name) }));
}
