/**
 * What every Task shares: the settings ConfigMap its steps read (store, registry, Pushgateway, GPU scheduling), the
 * pipeline library mounted into Python steps, the metric names of the contract, resource presets, and the steps
 * that time a stage and push its duration.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { PIPELINE_SERVICE_ACCOUNTS } from "../../contract/names";
import { METRICS, type MetricKey } from "../../contract/metric-contract";
import { KUBE_CLIENT_PATH, STEP_RUNTIME, STEP_RUNTIME_PATH } from "./runtime";
import {
    readScript,
    type ComputeResources,
    type EnvFromSource,
    type EnvVar,
    type Step,
    type StepTemplate,
    type Task,
    type Volume,
    type VolumeMount,
} from "./tekton";

/** ConfigMap in the pipelines namespace with the cluster's settings (keys below), read by every step through envFrom. */
export const SETTINGS_CONFIGMAP = "pipeline-settings";
/**
 * ConfigMap with the pipeline library: the package pipelines/lib/mlops_steps, laid out under LIB_PATH as in the
 * repository (LIB_PATH/mlops_steps/*.py), so LIB_PATH on PYTHONPATH makes `from mlops_steps import store` work in a
 * step as in the tests. Its pinned packages are in the step runtime (pipelines/core/runtime.ts).
 */
export const LIB_CONFIGMAP = "pipeline-lib";
export const LIB_PATH = "/opt/pipeline-lib";
/** The library's Python package (a directory of pipelines/lib). */
export const LIB_PACKAGE = "mlops_steps";
const LIB_DIR = path.join(__dirname, "..", "lib");

/**
 * The usage wrapper (pipelines/lib/step_usage.sh), at the top of LIB_PATH: every rendered step runs its own script
 * under it, so each Task pushes the CPU, memory and GPU its steps used (see measuredStep).
 */
export const STEP_USAGE_FILE = "step_usage.sh";

/** The library's files as ConfigMap data: `<package>.<module>.py` keys for the package, then the usage wrapper. */
export function libraryFiles(): Record<string, string> {
    const pkg = path.join(LIB_DIR, LIB_PACKAGE);
    const modules = fs
        .readdirSync(pkg)
        .filter((f) => f.endsWith(".py"))
        .sort()
        .map((f) => [`${LIB_PACKAGE}.${f}`, fs.readFileSync(path.join(pkg, f), "utf8")]);
    return Object.fromEntries([
        ...modules,
        [STEP_USAGE_FILE, fs.readFileSync(path.join(LIB_DIR, STEP_USAGE_FILE), "utf8")],
    ]);
}

/** Where each ConfigMap key lands under LIB_PATH: the package's modules in its directory. */
export function libraryVolume(name: string): Volume {
    const items = Object.keys(libraryFiles()).map((key) => ({
        key,
        path: key.startsWith(`${LIB_PACKAGE}.`) ? `${LIB_PACKAGE}/${key.slice(LIB_PACKAGE.length + 1)}` : key,
    }));
    return { name, configMap: { name: LIB_CONFIGMAP, items } };
}

/** Keys of the settings ConfigMap. */
export const SETTINGS_KEYS = [
    "STORE_KIND",
    "MODELS_BUCKET",
    "DATASETS_BUCKET",
    "STORE_ENDPOINT",
    "STORE_REGION",
    "AWS_REGION",
    "IMAGE_REPOSITORY",
    "PUSHGATEWAY_URL",
    "GPU_NODE_SELECTOR",
    "GPU_TOLERATIONS",
    "REGISTRY_TLS",
    "REGISTRY_LOGIN",
    "MODEL_ROUTES",
] as const;
export type SettingsKey = (typeof SETTINGS_KEYS)[number];
/** Settings whose values the platform decides (store, registry, GPU scheduling): the same keys on every cloud. */
export const PLATFORM_SETTINGS_KEYS: readonly SettingsKey[] = SETTINGS_KEYS.filter(
    (k) => k !== "PUSHGATEWAY_URL" && k !== "MODEL_ROUTES",
);

/** The pipelines' service accounts; every Task runs as one of them (the run builder assigns it). */
export type PipelineRole = keyof typeof PIPELINE_SERVICE_ACCOUNTS;

/** Label on each Task naming the service account it must run as; the run builder and the tests read it. */
export const ROLE_LABEL = "mlops-testbed/service-account";
/** Label on Tasks whose main step may run on a GPU node (the run builder adds the GPU scheduling). */
export const GPU_CAPABLE_LABEL = "mlops-testbed/gpu-capable";
/** Name of the step of a GPU-capable Task that receives the GPU. */
export const GPU_STEP_LABEL = "mlops-testbed/gpu-step";

/**
 * Secrets each role's pods take their cloud credentials from, on platforms whose workload identity hands out keys
 * (none on AWS: IRSA needs no Secret). The one place that adds an envFrom to every step of a role's Tasks.
 */
export type CredentialsSecrets = Partial<Record<PipelineRole, string>>;

/**
 * Labels each role's pods need for their cloud identity (the Platform's binding: AKS workload identity's
 * `azure.workload.identity/use`). They go on the role's Tasks: Tekton copies a Task's labels to its TaskRuns and a
 * TaskRun's labels to its pod (v1.15: storeTaskSpecAndMergeMeta in the TaskRun reconciler, makeLabels in pkg/pod), so
 * every run of the Task gets them, whoever starts it.
 */
export type PodLabelsByRole = Partial<Record<PipelineRole, Readonly<Record<string, string>>>>;

/** Environment variable carrying the name of a contract metric: `deployLeadTime` -> MLOPS_METRIC_DEPLOY_LEAD_TIME. */
export function metricEnvName(key: MetricKey): string {
    return `MLOPS_METRIC_${key.replace(/([A-Z])/g, "_$1").toUpperCase()}`;
}

/**
 * Where a step finds which run it belongs to: the PipelineRun and PipelineTask from the labels Tekton puts on the
 * TaskRun's pod (tekton.dev/pipelineRun, tekton.dev/pipelineTask; empty for a TaskRun outside a pipeline), through
 * the downward API, and the TaskRun's name. `$(context.pipelineRun.name)` is no help inside a referenced Task: Tekton
 * substitutes it in the Pipeline only (v1.15, pipelinerun/resources/apply.go ApplyContexts), and a Task's step
 * would see the text itself.
 */
export const RUN_IDENTITY_ENV: readonly EnvVar[] = [
    { name: "MLOPS_PIPELINE_RUN", valueFrom: { fieldRef: { fieldPath: "metadata.labels['tekton.dev/pipelineRun']" } } },
    {
        name: "MLOPS_PIPELINE_TASK",
        valueFrom: { fieldRef: { fieldPath: "metadata.labels['tekton.dev/pipelineTask']" } },
    },
    { name: "MLOPS_TASK_RUN", value: "$(context.taskRun.name)" },
];

/** The names of every metric pipeline steps push, from the contract. */
export function metricEnv(): EnvVar[] {
    return (Object.keys(METRICS) as MetricKey[])
        .filter((k) => METRICS[k].source === "pipeline-step")
        .map((k) => ({ name: metricEnvName(k), value: METRICS[k].name }));
}

export const RESOURCES = {
    tiny: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "256Mi" } },
    small: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "1Gi" } },
    python: { requests: { cpu: "250m", memory: "512Mi" }, limits: { memory: "2Gi" } },
    training: { requests: { cpu: "1", memory: "2Gi" }, limits: { memory: "8Gi" } },
    // buildah's vfs storage lives in the container's writable layer, on the node's root disk: the limit evicts a
    // runaway build before it fills a small system disk (dev's 20 GiB), the request keeps room for it.
    build: {
        requests: { cpu: "500m", memory: "1Gi", "ephemeral-storage": "2Gi" },
        limits: { memory: "4Gi", "ephemeral-storage": "6Gi" },
    },
} as const satisfies Record<string, ComputeResources>;

const STAGE_VOLUME: Volume = { name: "stage", emptyDir: {} };
const STAGE_MOUNT: VolumeMount = { name: "stage", mountPath: "/stage" };
const LIB_VOLUME: Volume = libraryVolume("pipeline-lib");
const LIB_MOUNT: VolumeMount = { name: "pipeline-lib", mountPath: LIB_PATH, readOnly: true };

/** Step template of every Task: settings, credentials of its role, metric names, the library and the stage timer. */
export function stepTemplate(role: PipelineRole, credentials: CredentialsSecrets = {}): StepTemplate {
    const envFrom: EnvFromSource[] = [{ configMapRef: { name: SETTINGS_CONFIGMAP } }];
    const secret = credentials[role];
    if (secret) envFrom.push({ secretRef: { name: secret } });
    return {
        envFrom,
        env: [{ name: "PYTHONDONTWRITEBYTECODE", value: "1" }, ...RUN_IDENTITY_ENV, ...metricEnv()],
        volumeMounts: [LIB_MOUNT, STAGE_MOUNT],
    };
}

/** Python path of every Python step: the pipeline library, then the step runtime's packages. */
export const STEP_PYTHONPATH = `${LIB_PATH}:${STEP_RUNTIME_PATH}`;

function stageStep(name: "stage-start" | "stage-push", stage: string): Step {
    const script =
        name === "stage-start"
            ? `#!/usr/bin/env python3\nimport time\nopen("/stage/start", "w").write(repr(time.time()))\n`
            : [
                  "#!/usr/bin/env python3",
                  "import os",
                  `from ${LIB_PACKAGE} import metrics`,
                  "start = float(open('/stage/start').read())",
                  "e = os.environ",
                  "labels = {'namespace': e['MODEL_NAMESPACE'], 'pipeline': e['PIPELINE'], 'stage': e['STAGE']}",
                  "# The run's labels are in the grouping key, so every run keeps its own stage durations.",
                  "run = e['MLOPS_PIPELINE_RUN'] or e['MLOPS_TASK_RUN']",
                  "grouping = [('model', e['MODEL']), ('version', e['VERSION']), ('mode', e['MODE']), ('task', e['STUDY_TASK']), ('run', run), ('pipeline', e['PIPELINE']), ('stage', e['STAGE'])]",
                  "metrics.push(e['PUSHGATEWAY_URL'], grouping, [(metrics.metric_name('stageDuration'), labels, metrics.now() - start)])",
                  "",
              ].join("\n");
    return {
        name,
        image: STEP_RUNTIME,
        script,
        computeResources: RESOURCES.tiny,
        env:
            name === "stage-push"
                ? [
                      { name: "MODEL", value: "$(params.model)" },
                      { name: "VERSION", value: "$(params.version)" },
                      { name: "MODEL_NAMESPACE", value: "$(params.model)-$(params.version)" },
                      { name: "MODE", value: "$(params.mode)" },
                      { name: "PIPELINE", value: "$(params.pipeline)" },
                      { name: "STUDY_TASK", value: "$(params.study-task)" },
                      { name: "STAGE", value: stage },
                      { name: "PYTHONPATH", value: STEP_PYTHONPATH },
                  ]
                : undefined,
    };
}

/** Params every timed Task takes so its stage duration is labelled like the rest of the delivery. */
export const STAGE_PARAMS = [
    { name: "model", description: "Model name (a DNS label)." },
    { name: "version", description: "Model version (a DNS label); the version namespace is <model>-<version>." },
    {
        name: "mode",
        description: "Delivery mode of the metric contract: automated, simplified or manual.",
        default: "automated",
    },
    {
        name: "pipeline",
        description: "Name of the pipeline running this task, for the stage metric.",
        default: "manual",
    },
    {
        name: "study-task",
        description: "Study task the run performs (contract/study-tasks.ts), for the stage metric; empty: none.",
        default: "",
    },
] as const;

export interface TaskDefinition {
    readonly name: string;
    readonly description: string;
    readonly role: PipelineRole;
    /** Name of the stage pushed as mlops_pipeline_stage_duration_seconds{stage}; absent: not timed. */
    readonly stage?: string;
    /** Name of the step that gets the GPU when the run asks for one. */
    readonly gpuStep?: string;
    readonly params?: Task["spec"]["params"];
    readonly results?: Task["spec"]["results"];
    readonly workspaces?: Task["spec"]["workspaces"];
    readonly steps: readonly Step[];
    readonly volumes?: readonly Volume[];
}

/**
 * Renders a Task: labels, step template, library and stage volumes, the stage timer around its steps, and the step
 * runtime's image (pipelines/core/runtime.ts) in place of STEP_RUNTIME when `runtimeImage` is given (the install
 * always gives it; wiring checks that ignore images may not).
 */
export function renderTask(
    def: TaskDefinition,
    credentials: CredentialsSecrets = {},
    podLabels: PodLabelsByRole = {},
    runtimeImage?: string,
): Task {
    const timed = def.stage !== undefined;
    const params = [
        ...(timed ? STAGE_PARAMS.filter((p) => !(def.params ?? []).some((q) => q.name === p.name)) : []),
        ...(def.params ?? []),
    ];
    return {
        apiVersion: "tekton.dev/v1",
        kind: "Task",
        metadata: {
            name: def.name,
            labels: {
                ...podLabels[def.role],
                "app.kubernetes.io/part-of": "mlops-testbed",
                [ROLE_LABEL]: PIPELINE_SERVICE_ACCOUNTS[def.role].name,
                ...(def.gpuStep ? { [GPU_CAPABLE_LABEL]: "true" } : {}),
            },
            annotations: def.gpuStep ? { [GPU_STEP_LABEL]: def.gpuStep } : undefined,
        },
        spec: {
            description: def.description,
            params: params.length > 0 ? params : undefined,
            results: def.results,
            workspaces: def.workspaces,
            stepTemplate: stepTemplate(def.role, credentials),
            steps: measuredSteps(
                timed
                    ? [stageStep("stage-start", def.stage!), ...def.steps, stageStep("stage-push", def.stage!)]
                    : def.steps,
            ).map((s) => (runtimeImage ? onRuntime(s, runtimeImage) : s)),
            volumes: [LIB_VOLUME, STAGE_VOLUME, ...(def.volumes ?? [])],
        },
    };
}

/** A step with the runtime's image reference in place of STEP_RUNTIME, as its image and in its env values. */
function onRuntime(step: Step, runtimeImage: string): Step {
    return {
        ...step,
        image: step.image === STEP_RUNTIME ? runtimeImage : step.image,
        env: step.env?.map((e) => (e.value === STEP_RUNTIME ? { ...e, value: runtimeImage } : e)),
    };
}

/** Ends the heredoc that hands a step's own script to the usage wrapper. */
const USAGE_HEREDOC = "MLOPS_STEP_SCRIPT";
const USAGE_PREAMBLE =
    "#!/bin/sh\n# The step's own script follows; pipelines/lib/step_usage.sh runs it and measures its CPU, memory and GPUs.\n";

/**
 * A step that runs its own script under the usage wrapper (pipelines/lib/step_usage.sh, at LIB_PATH in every step):
 * the wrapper reads the script from a heredoc, runs it with its own #! line, adds the CPU, memory and GPU time of its
 * process tree to the Task's usage file and, for the Task's last step or a step that failed, pushes the Task's usage
 * to the Pushgateway; the run's report step sums them per run. Exit code and output are the script's.
 */
export function measuredStep(step: Step, last: boolean): Step {
    if (step.script.split("\n").includes(USAGE_HEREDOC))
        throw new Error(
            `step ${step.name}: its script contains the line ${USAGE_HEREDOC}, which ends the wrapper's heredoc`,
        );
    const body = step.script.endsWith("\n") ? step.script : `${step.script}\n`;
    return {
        ...step,
        script:
            USAGE_PREAMBLE +
            `exec sh ${LIB_PATH}/${STEP_USAGE_FILE} step ${step.name}${last ? " last" : ""} <<'${USAGE_HEREDOC}'\n` +
            `${body}${USAGE_HEREDOC}\n`,
    };
}

/** The steps of a Task, each under the usage wrapper; the last one pushes the Task's usage. */
export function measuredSteps(steps: readonly Step[]): Step[] {
    return steps.map((s, i) => measuredStep(s, i === steps.length - 1));
}

/** A measured step's own script (what measuredStep wrapped), for tools and tests that run it without the wrapper. */
export function ownScript(script: string): string {
    const open = `<<'${USAGE_HEREDOC}'\n`;
    const at = script.indexOf(open);
    const close = `${USAGE_HEREDOC}\n`;
    if (!script.startsWith(USAGE_PREAMBLE) || at < 0 || !script.endsWith(close))
        throw new Error("not a script measuredStep rendered");
    return script.slice(at + open.length, script.length - close.length);
}

/** Where fetch-source puts the repository and the model's directory in it, inside the source workspace. */
export const SOURCE_WORKSPACE = "source";
export const SOURCE_PATH = "$(workspaces.source.path)";
export const MODEL_SRC = "$(workspaces.source.path)/repo/$(params.source-dir)";
/** The source-dir param of Tasks that run the model's scripts. */
export const SOURCE_DIR_PARAM = {
    name: "source-dir",
    description: "Directory of the model in the repository.",
    default: "pipelines/workload",
} as const;
export const SOURCE_WORKSPACE_DECL = {
    name: SOURCE_WORKSPACE,
    description: "The source fetched by fetch-source (repo/) and the run's data and model (data/, model/).",
} as const;

/** A Python step running a script next to its Task, with the library and the source's packages importable. */
export function pythonStep(
    dir: string,
    name: string,
    file: string,
    env: readonly EnvVar[],
    computeResources: ComputeResources = RESOURCES.python,
): Step {
    const source = [
        { name: "WORK", value: SOURCE_PATH },
        { name: "MODEL_SRC", value: MODEL_SRC },
    ];
    return libStep(dir, name, file, [...source, ...env], computeResources);
}

/**
 * A Python step that needs the pipeline library and the runtime's packages but no source workspace (the API-facing
 * steps: the Kubernetes client is in the runtime).
 */
export function libStep(
    dir: string,
    name: string,
    file: string,
    env: readonly EnvVar[],
    computeResources: ComputeResources = RESOURCES.small,
): Step {
    return {
        name,
        image: STEP_RUNTIME,
        script: readScript(dir, file),
        computeResources,
        env: [{ name: "PYTHONPATH", value: STEP_PYTHONPATH }, ...env],
    };
}

/** Python path of the steps that call the Kubernetes API: the pipeline library and the runtime's Kubernetes client. */
export const KUBE_STEP_PYTHONPATH = `${LIB_PATH}:${KUBE_CLIENT_PATH}`;

/**
 * A Python step that calls the Kubernetes API (pipelines/lib/mlops_steps/kube.py) with the runtime's pinned client
 * (its own directory of the runtime image: pipelines/core/runtime.ts says why it is apart).
 */
export function kubeStep(
    dir: string,
    name: string,
    file: string,
    env: readonly EnvVar[],
    computeResources: ComputeResources = RESOURCES.small,
): Step {
    const step = libStep(dir, name, file, env, computeResources);
    return { ...step, env: [{ name: "PYTHONPATH", value: KUBE_STEP_PYTHONPATH }, ...env] };
}
