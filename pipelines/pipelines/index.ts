/**
 * The pipelines: train, deploy, train-and-deploy, rollback and simplified. Every run ends with a `report` in
 * `finally` that pushes the delivery metrics with the run's `mode`, whatever the outcome.
 */
import { DELIVERY_MODES } from "../../dashboards/metric-contract";
import type { ParamSpec, Pipeline, PipelineTask } from "../tekton";
import { param, passParams, taskResult } from "../tekton";

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
    version: { name: "version", description: "Version to train or deploy, as in mlops-testbed:models; namespace <model>-<version>." },
    mode: (d = "automated") => ({ name: "mode", description: `How the version is delivered (metric label): ${DELIVERY_MODES.join(", ")}.`, default: d }),
    triggerTime: { name: "trigger-time", description: "Unix time of the trigger (push, new data, alert); empty: the run's start.", default: "" },
    gitUrl: { name: "git-url", description: "Repository of the model's source." },
    gitRevision: { name: "git-revision", description: "Branch, tag or commit.", default: "main" },
    sourceDir: { name: "source-dir", description: "Directory of the model in the repository.", default: "pipelines/workload" },
    dataset: { name: "dataset", description: "builtin:<name> or store:<key in the datasets store>.", default: "builtin:iris" },
    productionVersion: { name: "production-version", description: "Version serving now (drift reference and accuracy baseline); empty: none.", default: "" },
    threshold: (d: number) => ({ name: "threshold", description: "Lowest accepted evaluation accuracy (0-1).", default: String(d) }),
    tolerance: (d: number) => ({ name: "tolerance", description: "Largest accepted accuracy drop below production (0-1).", default: String(d) }),
    replicas: { name: "replicas", description: "Model-server replicas.", default: "1" },
    gpu: { name: "gpu", description: "GPUs per model-server replica.", default: "0" },
    podLabels: { name: "pod-labels", description: "Extra pod labels for the platform's workload identity (JSON).", default: "{}" },
    strategy: { name: "strategy", description: "Traffic strategy: single or blue-green.", default: "single" },
} satisfies Record<string, ParamSpec | ((...a: never[]) => ParamSpec)>;

const SOURCE_WS = [{ name: "source", workspace: "source" }];
const stage = (pipeline: string) => [...passParams(["model", "version", "mode"]), { name: "pipeline", value: pipeline }];

function pipeline(name: PipelineName, description: string, params: ParamSpec[], tasks: PipelineTask[], fin: PipelineTask[], workspace = true): Pipeline {
    return {
        apiVersion: "tekton.dev/v1",
        kind: "Pipeline",
        metadata: { name, labels: { "app.kubernetes.io/part-of": "mlops-testbed" } },
        spec: {
            description,
            params,
            workspaces: workspace ? [{ name: "source", description: "Scratch volume for the source, data and model of one run." }] : undefined,
            tasks,
            finally: fin,
        },
    };
}

function trainTasks(name: PipelineName): PipelineTask[] {
    return [
        { name: "fetch-source", taskRef: { name: "fetch-source" }, params: passParams(["git-url", "git-revision", "source-dir"]), workspaces: SOURCE_WS },
        {
            name: "validate-data", taskRef: { name: "validate-data" }, runAfter: ["fetch-source"], workspaces: SOURCE_WS,
            params: [...stage(name), ...passParams(["source-dir", "dataset", "production-version"])],
        },
        {
            name: "train", taskRef: { name: "train" }, runAfter: ["validate-data"], workspaces: SOURCE_WS,
            params: [...stage(name), ...passParams(["source-dir"])],
        },
        {
            name: "evaluate", taskRef: { name: "evaluate" }, runAfter: ["train"], workspaces: SOURCE_WS,
            params: [...stage(name), ...passParams(["source-dir", "production-version", "threshold", "tolerance"])],
        },
        {
            name: "register", taskRef: { name: "register" }, runAfter: ["evaluate"], workspaces: SOURCE_WS,
            params: [
                ...stage(name), ...passParams(["source-dir", "git-url"]),
                { name: "commit", value: taskResult("fetch-source", "commit") },
                { name: "dataset-version", value: taskResult("validate-data", "dataset-version") },
                { name: "started-at", value: taskResult("fetch-source", "started-at") },
            ],
        },
    ];
}

function deployTasks(name: PipelineName, after: string[], image: string, strategy = param("strategy")): PipelineTask[] {
    return [
        {
            name: "deploy", taskRef: { name: "deploy" }, runAfter: after,
            params: [...stage(name), { name: "image", value: image }, ...passParams(["replicas", "gpu", "pod-labels"])],
        },
        { name: "smoke-test", taskRef: { name: "smoke-test" }, runAfter: ["deploy"], params: stage(name) },
        { name: "route", taskRef: { name: "route" }, runAfter: ["smoke-test"], params: [...stage(name), { name: "strategy", value: strategy }] },
    ];
}

const build = (name: PipelineName, after: string): PipelineTask => ({
    name: "build-image", taskRef: { name: "build-image" }, runAfter: [after], workspaces: SOURCE_WS,
    params: [...stage(name), ...passParams(["source-dir"]), { name: "commit", value: taskResult("fetch-source", "commit") }],
});

/** The finally task that reports the outcome; `training` adds the accuracies (skipped when training did not finish). */
function report(event: "train" | "deploy" | "rollback", extra: { name: string; value: string }[] = [], taskName = "report"): PipelineTask {
    return {
        name: taskName, taskRef: { name: "report" },
        params: [
            { name: "event", value: event }, { name: "status", value: "$(tasks.status)" },
            ...passParams(["model", "version", "mode"]), ...extra,
        ],
    };
}

const trainingReport = (event: "train" | "deploy", trainTask = "train") =>
    report(event, [
        { name: "train-accuracy", value: taskResult(trainTask, "train-accuracy") },
        { name: "eval-accuracy", value: taskResult("evaluate", "accuracy") },
        { name: "dataset-version", value: taskResult("validate-data", "dataset-version") },
    ], "report-training");

const deliveryReport = () => report("deploy", [
    { name: "trigger-time", value: param("trigger-time") },
    { name: "started-at", value: taskResult("fetch-source", "started-at") },
]);

export const PIPELINE_DEFINITIONS: readonly ((d: PipelineDefaults) => Pipeline)[] = [
    (d) => pipeline("train", "Fetches the source, validates the data (schema, drift), trains, evaluates against the gate and registers the model version.",
        [P.model, P.version, P.mode(), P.gitUrl, P.gitRevision, P.sourceDir, P.dataset, P.productionVersion, P.threshold(d.accuracyThreshold), P.tolerance(d.accuracyTolerance)],
        trainTasks("train"), [trainingReport("train")]),
    () => pipeline("deploy", "Builds the model-server image, deploys a registered version into its namespace, smoke-tests it and routes traffic to it.",
        [P.model, P.version, P.mode(), P.triggerTime, P.gitUrl, P.gitRevision, P.sourceDir, P.replicas, P.gpu, P.podLabels, P.strategy],
        [
            { name: "fetch-source", taskRef: { name: "fetch-source" }, params: passParams(["git-url", "git-revision", "source-dir"]), workspaces: SOURCE_WS },
            build("deploy", "fetch-source"),
            ...deployTasks("deploy", ["build-image"], taskResult("build-image", "image")),
        ],
        [deliveryReport()]),
    (d) => pipeline("train-and-deploy", "The full automated delivery: train (with its gates) and register, build the server image, deploy, smoke-test and route.",
        [P.model, P.version, P.mode(), P.triggerTime, P.gitUrl, P.gitRevision, P.sourceDir, P.dataset, P.productionVersion,
            P.threshold(d.accuracyThreshold), P.tolerance(d.accuracyTolerance), P.replicas, P.gpu, P.podLabels, P.strategy],
        [...trainTasks("train-and-deploy"), build("train-and-deploy", "fetch-source"), ...deployTasks("train-and-deploy", ["register", "build-image"], taskResult("build-image", "image"))],
        [deliveryReport(), trainingReport("deploy")]),
    () => pipeline("rollback", "Sends a model's traffic back to the previous version after checking it still answers.",
        [P.model, { name: "version", description: "The version to roll back to (serving before)." },
            { name: "from-version", description: "The version traffic moves away from." }, P.mode()],
        [
            { name: "smoke-test", taskRef: { name: "smoke-test" }, params: stage("rollback") },
            { name: "route", taskRef: { name: "route" }, runAfter: ["smoke-test"], params: [...stage("rollback"), { name: "strategy", value: "single" }] },
        ],
        [report("rollback", passParams(["from-version"]))], false),
    () => pipeline("simplified", "The simplified delivery: one stage trains and uploads (no validation, no gate), then deploys with an existing server image and routes all traffic.",
        [P.model, P.version, P.mode("simplified"), P.triggerTime, P.gitUrl, P.gitRevision, P.sourceDir,
            { name: "image", description: "Model-server image built by an earlier deploy run (the server loads each version from the store)." },
            P.replicas, P.gpu, P.podLabels],
        [
            { name: "fetch-source", taskRef: { name: "fetch-source" }, params: passParams(["git-url", "git-revision", "source-dir"]), workspaces: SOURCE_WS },
            { name: "quick-train", taskRef: { name: "quick-train" }, runAfter: ["fetch-source"], workspaces: SOURCE_WS, params: [...stage("simplified"), ...passParams(["source-dir"])] },
            ...deployTasks("simplified", ["quick-train"], param("image"), "single").filter((t) => t.name !== "smoke-test")
                .map((t) => (t.name === "route" ? { ...t, runAfter: ["deploy"] } : t)),
        ],
        [deliveryReport()]),
];
