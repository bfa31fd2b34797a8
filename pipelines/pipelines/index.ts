/**
 * The pipelines: train, deploy, train-and-deploy, rollback and simplified. Every run ends with a `report` in
 * `finally` that pushes the delivery metrics with the run's `mode`, whatever the outcome.
 *
 * `deploy` and `train-and-deploy` hand traffic to the new version by what `choose-versions` read from the model's
 * route: `promote` (canary, blue-green, shadow, with analyses and automatic rollback) when a baseline serves,
 * `route` (all at once) for strategy single, nothing when the version redeploys in place.
 */
import { DELIVERY_MODES } from "../../contract/metric-contract";
import { PROMOTE_TASK } from "../promotion/task";
import { ROLLOUTS } from "../tasks/choose-versions/task";
import { REPORT_TASKS } from "../tasks/report/task";
import type { ParamSpec, Pipeline, PipelineTask } from "../core/tekton";
import { TASK_IDS } from "../../contract/study-tasks";
import { param, passParams, taskResult } from "../core/tekton";

/** Defaults the stack's config gives the pipelines' params. */
export interface PipelineDefaults {
    /** Lowest accepted evaluation accuracy. */
    readonly accuracyThreshold: number;
    /** Largest accepted accuracy drop below the production version. */
    readonly accuracyTolerance: number;
}

export const PIPELINE_NAMES = ["train", "deploy", "train-and-deploy", "rollback", "simplified"] as const;
export type PipelineName = (typeof PIPELINE_NAMES)[number];

const P = {
    model: { name: "model", description: "Model name, as in mlops-testbed:models." },
    version: {
        name: "version",
        description: "Version to train or deploy, as in mlops-testbed:models; namespace <model>-<version>.",
    },
    mode: (d = "automated") => ({
        name: "mode",
        description: `How the version is delivered (metric label): ${DELIVERY_MODES.join(", ")}.`,
        default: d,
    }),
    triggerTime: {
        name: "trigger-time",
        description: "Time of the trigger (push, new data, alert), Unix seconds or RFC 3339; empty: the run's start.",
        default: "",
    },
    gitUrl: { name: "git-url", description: "Repository of the model's source." },
    gitRevision: { name: "git-revision", description: "Branch, tag or commit.", default: "main" },
    sourceDir: {
        name: "source-dir",
        description: "Directory of the model in the repository.",
        default: "pipelines/workload",
    },
    dataset: {
        name: "dataset",
        description:
            "builtin:<name>, store:<key in the datasets store>, or store:<prefix>/ for the newest object under it.",
        default: "builtin:iris",
    },
    productionVersion: {
        name: "production-version",
        description: "Version serving now (drift reference and accuracy baseline); empty: none.",
        default: "",
    },
    threshold: (d: number) => ({
        name: "threshold",
        description: "Lowest accepted evaluation accuracy (0-1).",
        default: String(d),
    }),
    tolerance: (d: number) => ({
        name: "tolerance",
        description: "Largest accepted accuracy drop below production (0-1).",
        default: String(d),
    }),
    replicas: { name: "replicas", description: "Model-server replicas.", default: "1" },
    gpu: { name: "gpu", description: "GPUs per model-server replica.", default: "0" },
    podLabels: {
        name: "pod-labels",
        description: "Extra pod labels for the platform's workload identity (JSON).",
        default: "{}",
    },
    build: {
        name: "build",
        description: "Build of the version to deploy (models/<model>/<version>/<build>/); empty: its newest.",
        default: "",
    },
    /** train-and-deploy: a trigger does not know the version; the standby slot is chosen from the route. */
    chosenVersion: {
        name: "version",
        description:
            "Version to train and deploy; empty: the configured version with the least live traffic (standby slot).",
        default: "",
    },
    /** The standardized study task a delivery run performs (contract/study-tasks.ts); its runs are counted per task. */
    studyTask: (id: string) => {
        if (!TASK_IDS.includes(id))
            throw new Error(`${id} is not a study task (contract/study-tasks.ts): ${TASK_IDS.join(", ")}`);
        return {
            name: "study-task",
            description: `Study task this run performs: ${TASK_IDS.join(", ")}.`,
            default: id,
        };
    },
    humanActions: {
        name: "human-actions",
        description:
            "Actions a person performed to start this run (ease of deployment): 1 for a push, an upload or a command, 0 for an alert.",
        default: "1",
    },
    handsOnSeconds: {
        name: "hands-on-seconds",
        description: "Seconds a person spent starting this run, when the starter measured them; empty: not recorded.",
        default: "",
    },
    concurrency: {
        name: "concurrency",
        description: "Deliveries started at once, this one included (scalability: 1, 2, 4).",
        default: "1",
    },
    strategy: {
        name: "strategy",
        description: "single, canary, blue-green or shadow; empty: the model's traffic.strategy (its route's label).",
        default: "",
    },
} satisfies Record<string, ParamSpec | ((...a: never[]) => ParamSpec)>;

const SOURCE_WS = [{ name: "source", workspace: "source" }];
const CHOOSE = "choose-versions";
const chosen = (result: "version" | "baseline" | "strategy" | "rollout") => taskResult(CHOOSE, result);
/**
 * The params of a timed task; `version` is the pipeline's param or, where the pipeline chooses it, choose-versions'
 * result. The study task labels the stage durations of a delivery run (the train pipeline performs none).
 */
const stage = (pipeline: PipelineName, version = param("version")) => [
    ...passParams(["model"]),
    { name: "version", value: version },
    ...passParams(["mode"]),
    { name: "pipeline", value: pipeline },
    ...(pipeline === "train" ? [] : passParams(["study-task"])),
];

/** Reads the model's route: the version to deliver (asked for or the standby slot), the baseline, strategy and rollout. */
const chooseVersions = (): PipelineTask => ({
    name: CHOOSE,
    taskRef: { name: CHOOSE },
    params: passParams(["model", "version", "strategy"]),
});

function pipeline(
    name: PipelineName,
    description: string,
    params: ParamSpec[],
    tasks: PipelineTask[],
    fin: PipelineTask[],
    workspace = true,
): Pipeline {
    return {
        apiVersion: "tekton.dev/v1",
        kind: "Pipeline",
        metadata: { name, labels: { "app.kubernetes.io/part-of": "mlops-testbed" } },
        spec: {
            description,
            params,
            workspaces: workspace
                ? [{ name: "source", description: "Scratch volume for the source, data and model of one run." }]
                : undefined,
            tasks,
            finally: fin,
        },
    };
}

/** Where the training tasks take the version and the production version from: params, or choose-versions' results. */
interface TrainSource {
    readonly version: string;
    readonly productionVersion: string;
    /** Tasks validate-data must also run after. */
    readonly after: readonly string[];
}
const FROM_PARAMS: TrainSource = {
    version: param("version"),
    productionVersion: param("production-version"),
    after: [],
};
const FROM_CHOICE: TrainSource = { version: chosen("version"), productionVersion: chosen("baseline"), after: [CHOOSE] };

function trainTasks(name: PipelineName, src: TrainSource = FROM_PARAMS): PipelineTask[] {
    const production = { name: "production-version", value: src.productionVersion };
    return [
        {
            name: "fetch-source",
            taskRef: { name: "fetch-source" },
            params: passParams(["git-url", "git-revision", "source-dir"]),
            workspaces: SOURCE_WS,
        },
        {
            name: "validate-data",
            taskRef: { name: "validate-data" },
            runAfter: ["fetch-source", ...src.after],
            workspaces: SOURCE_WS,
            params: [...stage(name, src.version), ...passParams(["source-dir", "dataset"]), production],
        },
        {
            name: "train",
            taskRef: { name: "train" },
            runAfter: ["validate-data"],
            workspaces: SOURCE_WS,
            params: [...stage(name, src.version), ...passParams(["source-dir"])],
        },
        {
            name: "evaluate",
            taskRef: { name: "evaluate" },
            runAfter: ["train"],
            workspaces: SOURCE_WS,
            params: [...stage(name, src.version), ...passParams(["source-dir", "threshold", "tolerance"]), production],
        },
        {
            name: "register",
            taskRef: { name: "register" },
            runAfter: ["evaluate"],
            workspaces: SOURCE_WS,
            params: [
                ...stage(name, src.version),
                ...passParams(["source-dir", "git-url"]),
                { name: "commit", value: taskResult("fetch-source", "commit") },
                { name: "dataset-version", value: taskResult("validate-data", "dataset-version") },
                { name: "dataset-source", value: taskResult("validate-data", "dataset-source") },
                { name: "started-at", value: taskResult("fetch-source", "started-at") },
            ],
        },
    ];
}

/** deploy, smoke-test, then the traffic move (after choose-versions, which must be among the run's tasks). */
function deployTasks(
    name: PipelineName,
    after: string[],
    image: string,
    version: string,
    build: string,
): PipelineTask[] {
    const rolloutIs = (r: string) => [{ input: chosen("rollout"), operator: "in" as const, values: [r] }];
    return [
        {
            name: "deploy",
            taskRef: { name: "deploy" },
            runAfter: after,
            params: [
                ...stage(name, version),
                { name: "image", value: image },
                { name: "build", value: build },
                ...passParams(["replicas", "gpu", "pod-labels"]),
            ],
        },
        { name: "smoke-test", taskRef: { name: "smoke-test" }, runAfter: ["deploy"], params: stage(name, version) },
        {
            // Fails on a failed analysis after rolling back (weights to the baseline, rollback metric pushed).
            name: PROMOTE_TASK,
            taskRef: { name: PROMOTE_TASK },
            runAfter: ["smoke-test", CHOOSE],
            when: rolloutIs(ROLLOUTS.progressive),
            params: [
                ...passParams(["model"]),
                { name: "candidate-version", value: version },
                { name: "baseline-version", value: chosen("baseline") },
                { name: "strategy", value: chosen("strategy") },
                ...passParams(["mode"]),
            ],
        },
        {
            name: "route",
            taskRef: { name: "route" },
            runAfter: ["smoke-test", CHOOSE],
            when: rolloutIs(ROLLOUTS.switch),
            params: [...stage(name, version), { name: "strategy", value: "single" }],
        },
    ];
}

const build = (name: PipelineName, after: string[], version = param("version")): PipelineTask => ({
    name: "build-image",
    taskRef: { name: "build-image" },
    runAfter: after,
    workspaces: SOURCE_WS,
    params: [
        ...stage(name, version),
        ...passParams(["source-dir"]),
        { name: "commit", value: taskResult("fetch-source", "commit") },
    ],
});

/** The finally task that reports the outcome: `train` pushes the accuracies only, `deploy` and `rollback` the run's delivery metrics. */
function report(
    event: "train" | "deploy" | "rollback",
    extra: { name: string; value: string }[] = [],
    taskName: string = REPORT_TASKS.delivery,
    version = param("version"),
): PipelineTask {
    return {
        name: taskName,
        taskRef: { name: "report" },
        params: [
            { name: "event", value: event },
            { name: "status", value: "$(tasks.status)" },
            ...passParams(["model"]),
            { name: "version", value: version },
            ...passParams(["mode"]),
            ...(event === "train" ? [] : passParams(["study-task"])),
            ...extra,
        ],
    };
}

/**
 * The accuracies of the trained version, in a finally task of their own (skipped when training did not finish, as
 * Tekton skips a finally task whose result references are missing). It pushes the training group only, never the
 * run's delivery group, so it cannot erase the lead time `report` pushes.
 */
const trainingReport = (
    version = param("version"),
    results = { train: "train", evaluate: "evaluate", accuracy: "accuracy", dataset: "validate-data" },
) =>
    report(
        "train",
        [
            { name: "train-accuracy", value: taskResult(results.train, "train-accuracy") },
            { name: "eval-accuracy", value: taskResult(results.evaluate, results.accuracy) },
            { name: "dataset-version", value: taskResult(results.dataset, "dataset-version") },
        ],
        REPORT_TASKS.training,
        version,
    );

/** The delivery's params every delivery run reports as they were given: the start event, ease and concurrency. */
const DELIVERY_REPORT_PARAMS = passParams(["trigger-time", "human-actions", "hands-on-seconds", "concurrency"]);

/**
 * The delivery's outcome: Failed when any task failed, a promotion rolled back included (`promote` says so in its
 * status). It references no task result, so it runs whatever failed: the run's start is its earliest TaskRun's.
 */
const deliveryReport = (version = param("version"), promoted = true) =>
    report(
        "deploy",
        [
            ...DELIVERY_REPORT_PARAMS,
            ...(promoted ? [{ name: "promote-status", value: `$(tasks.${PROMOTE_TASK}.status)` }] : []),
        ],
        REPORT_TASKS.delivery,
        version,
    );

/** The params every delivery pipeline takes for its report. */
const DELIVERY_PARAMS = [P.triggerTime, P.humanActions, P.handsOnSeconds, P.concurrency];

export const PIPELINE_DEFINITIONS: readonly ((d: PipelineDefaults) => Pipeline)[] = [
    (d) =>
        pipeline(
            "train",
            "Fetches the source, validates the data (schema, drift), trains, evaluates against the gate and registers the model version.",
            [
                P.model,
                P.version,
                P.mode(),
                P.gitUrl,
                P.gitRevision,
                P.sourceDir,
                P.dataset,
                P.productionVersion,
                P.threshold(d.accuracyThreshold),
                P.tolerance(d.accuracyTolerance),
            ],
            trainTasks("train"),
            [trainingReport()],
        ),
    () =>
        pipeline(
            "deploy",
            "Builds the model-server image, deploys a registered version into its namespace, smoke-tests it and promotes it per the strategy (rolling back on a failed analysis).",
            [
                P.model,
                P.version,
                P.mode(),
                P.studyTask("deploy-new-version"),
                ...DELIVERY_PARAMS,
                P.gitUrl,
                P.gitRevision,
                P.sourceDir,
                P.replicas,
                P.gpu,
                P.podLabels,
                P.build,
                P.strategy,
            ],
            [
                {
                    name: "fetch-source",
                    taskRef: { name: "fetch-source" },
                    params: passParams(["git-url", "git-revision", "source-dir"]),
                    workspaces: SOURCE_WS,
                },
                chooseVersions(),
                build("deploy", ["fetch-source"]),
                ...deployTasks(
                    "deploy",
                    ["build-image", CHOOSE],
                    taskResult("build-image", "image"),
                    param("version"),
                    param("build"),
                ),
            ],
            [deliveryReport()],
        ),
    (d) =>
        pipeline(
            "train-and-deploy",
            "The full automated delivery (what triggers start): choose the version slot, train (with its gates) and register, build the server image, deploy, smoke-test and promote.",
            [
                P.model,
                P.chosenVersion,
                P.mode(),
                P.studyTask("deploy-new-version"),
                ...DELIVERY_PARAMS,
                P.gitUrl,
                P.gitRevision,
                P.sourceDir,
                P.dataset,
                P.threshold(d.accuracyThreshold),
                P.tolerance(d.accuracyTolerance),
                P.replicas,
                P.gpu,
                P.podLabels,
                P.strategy,
            ],
            [
                chooseVersions(),
                ...trainTasks("train-and-deploy", FROM_CHOICE),
                build("train-and-deploy", ["fetch-source", CHOOSE], chosen("version")),
                ...deployTasks(
                    "train-and-deploy",
                    ["register", "build-image"],
                    taskResult("build-image", "image"),
                    chosen("version"),
                    taskResult("register", "build"),
                ),
            ],
            [deliveryReport(chosen("version")), trainingReport(chosen("version"))],
        ),
    () =>
        pipeline(
            "rollback",
            "Sends a model's traffic back to the previous version after checking it still answers.",
            [
                P.model,
                { name: "version", description: "The version to roll back to (serving before)." },
                { name: "from-version", description: "The version traffic moves away from." },
                P.mode(),
                P.studyTask("rollback-bad-version"),
                ...DELIVERY_PARAMS,
            ],
            [
                { name: "smoke-test", taskRef: { name: "smoke-test" }, params: stage("rollback") },
                {
                    name: "route",
                    taskRef: { name: "route" },
                    runAfter: ["smoke-test"],
                    params: [...stage("rollback"), { name: "strategy", value: "single" }],
                },
            ],
            [report("rollback", [...passParams(["from-version"]), ...DELIVERY_REPORT_PARAMS])],
            false,
        ),
    () =>
        pipeline(
            "simplified",
            "The simplified delivery: one stage trains and uploads (no validation, no gate), then deploys with an existing server image and routes all traffic at once (no analysis).",
            [
                P.model,
                P.version,
                P.mode("simplified"),
                P.studyTask("deploy-new-version"),
                ...DELIVERY_PARAMS,
                P.gitUrl,
                P.gitRevision,
                P.sourceDir,
                {
                    name: "image",
                    description:
                        "Model-server image built by an earlier deploy run (the server loads each version from the store).",
                },
                P.replicas,
                P.gpu,
                P.podLabels,
            ],
            [
                {
                    name: "fetch-source",
                    taskRef: { name: "fetch-source" },
                    params: passParams(["git-url", "git-revision", "source-dir"]),
                    workspaces: SOURCE_WS,
                },
                {
                    name: "quick-train",
                    taskRef: { name: "quick-train" },
                    runAfter: ["fetch-source"],
                    workspaces: SOURCE_WS,
                    params: [...stage("simplified"), ...passParams(["source-dir"])],
                },
                {
                    name: "deploy",
                    taskRef: { name: "deploy" },
                    runAfter: ["quick-train"],
                    params: [...stage("simplified"), ...passParams(["image", "replicas", "gpu", "pod-labels"])],
                },
                {
                    name: "route",
                    taskRef: { name: "route" },
                    runAfter: ["deploy"],
                    params: [...stage("simplified"), { name: "strategy", value: "single" }],
                },
            ],
            [
                deliveryReport(param("version"), false),
                // quick-train evaluates on its holdout too: its accuracy is the simplified run's evaluation accuracy.
                trainingReport(param("version"), {
                    train: "quick-train",
                    evaluate: "quick-train",
                    accuracy: "accuracy",
                    dataset: "quick-train",
                }),
            ],
        ),
];
