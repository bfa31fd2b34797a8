/**
 * Tekton Triggers (triggers.tekton.dev/v1beta1) of the testbed: one EventListener (EVENT_LISTENER) with, per
 * model, three triggers that start `train-and-deploy` for that model:
 *
 * - git push (GitHub's webhook format): the github interceptor checks the HMAC signature with the generated
 *   secret and the event type; a CEL filter keeps pushes to the default branch that change `models/<model>/`;
 * - dataset change: an S3 "Object Created" event (EventBridge's shape, forwarded from the queue by the
 *   in-cluster consumer) under `<model>/` in the datasets store;
 * - retrain alert: an Alertmanager webhook (firing) whose group is the model (the retrain route groups by model).
 *
 * The model is a static binding of each trigger, so a payload can only start pipelines for configured models,
 * and a push that touches two models starts two runs. Requests from outside the cluster reach the listener only
 * through the webhook gateway, which stamps SOURCE_HEADER on them; the in-cluster triggers refuse any request
 * that carries it, so only the HMAC-checked git trigger can be reached from outside.
 */
import { EVENT_LISTENER, MODEL_LABEL_KEYS, PIPELINES_NAMESPACE } from "../../contract/names";
import { pipelineRun, type RunOptions } from "../core/runs";
import type { Pipeline, PipelineRun, TaskLike } from "../core/tekton";

export const TRIGGERS_API = "triggers.tekton.dev/v1beta1";

/** The pipeline every trigger starts (defined with the Tekton install). */
export const TRAIN_AND_DEPLOY = "train-and-deploy";
/** Service account of the EventListener pods. */
export const LISTENER_SERVICE_ACCOUNT = "triggers";
/** Secret with the GitHub webhook's HMAC key. */
export const GIT_WEBHOOK_SECRET = { name: "git-webhook", key: "secret" } as const;
/** Branch whose pushes deliver. */
export const GIT_BRANCH = "main";
/** Where a model's code lives in the repository (the runs' `source-dir`), and its data in the datasets store. */
export const modelSourceDir = (model: string) => `models/${model}`;
export const modelSourcePrefix = (model: string) => `${modelSourceDir(model)}/`;
export const modelDatasetPrefix = (model: string) => `${model}/`;
/** A run's `dataset`: one object of the datasets store, or the newest object under the model's prefix. */
export const datasetObject = (key: string) => `store:${key}`;
export const latestDataset = (model: string) => `store:${modelDatasetPrefix(model)}`;
/** Header the webhook gateway sets on every request it forwards (overwriting any sent). */
export const SOURCE_HEADER = { name: "X-Mlops-Source", value: "webhook-gateway" } as const;
/** Path of the git webhook on the webhook gateway. */
export const GIT_WEBHOOK_PATH = "/hooks/git";

export const BINDINGS = { git: "git-push", dataset: "dataset-change", alert: "retrain-alert" } as const;
export const TRIGGER_KINDS = ["git", "dataset", "alert"] as const;
export type TriggerKind = (typeof TRIGGER_KINDS)[number];

/**
 * Params of the TriggerTemplate. Every trigger supplies model, dataset, trigger and trigger-time; the git trigger
 * also the repository and commit (the others build the configured repository's default branch). The run's
 * version and strategy are left to the pipeline, which chooses them from the model's route (choose-versions).
 */
export function templateParams(sourceRepository: string) {
    return [
        { name: "model", description: "Model to train and deploy." },
        { name: "git-url", description: "Repository to build from.", default: sourceRepository },
        { name: "git-revision", description: "Commit or branch to build.", default: GIT_BRANCH },
        {
            name: "dataset",
            description:
                "store:<key> of the new data, or store:<model>/ for the newest object under the model's prefix.",
        },
        {
            name: "trigger",
            description:
                "What started the delivery: git-push, dataset-change or the alert's name (a label of the run).",
        },
        { name: "trigger-time", description: "When it happened (RFC 3339): the start of the deploy lead time." },
        {
            name: "study-task",
            description:
                "Study task the run performs (contract/study-tasks.ts): a push deploys a new version, new data or an alert retrains.",
            default: "deploy-new-version",
        },
    ];
}

const labels = { "app.kubernetes.io/part-of": "mlops-testbed" };
const meta = (name: string) => ({ name, namespace: PIPELINES_NAMESPACE, labels });
const quote = (s: string) => `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;

/** CEL: the request did not come through the webhook gateway. */
export const IN_CLUSTER_ONLY = `!(${quote(SOURCE_HEADER.name)} in header)`;

/** The CEL filter of a model's trigger of the given kind. */
export function celFilter(kind: TriggerKind, model: string): string {
    switch (kind) {
        case "git": {
            const p = quote(modelSourcePrefix(model));
            return (
                `body.ref == ${quote(`refs/heads/${GIT_BRANCH}`)} && body.commits.exists(c, ` +
                `c.added.exists(p, p.startsWith(${p})) || c.modified.exists(p, p.startsWith(${p})) || c.removed.exists(p, p.startsWith(${p})))`
            );
        }
        // Every field is tested for presence before it is read: the listener evaluates every trigger's filter on every
        // event, and reading a field another kind of event lacks is an interceptor error, logged each time.
        case "dataset":
            return (
                `${IN_CLUSTER_ONLY} && has(body.source) && body.source == 'aws.s3' && ` +
                `'detail-type' in body && body['detail-type'] == 'Object Created' && ` +
                `has(body.detail) && has(body.detail.object) && has(body.detail.object.key) && ` +
                `body.detail.object.key.startsWith(${quote(modelDatasetPrefix(model))})`
            );
        case "alert":
            return (
                `${IN_CLUSTER_ONLY} && has(body.status) && body.status == 'firing' && ` +
                `has(body.commonLabels) && has(body.commonLabels.model) && body.commonLabels.model == ${quote(model)}`
            );
    }
}

/** The TriggerBindings: where each kind of payload keeps the template's params (the model is bound per trigger). */
export function triggerBindings() {
    const p = (name: string, value: string) => ({ name, value });
    const binding = (name: string, params: { name: string; value: string }[]) => ({
        apiVersion: TRIGGERS_API,
        kind: "TriggerBinding",
        metadata: meta(name),
        spec: { params },
    });
    return [
        binding(BINDINGS.git, [
            p("git-url", "$(body.repository.clone_url)"),
            p("git-revision", "$(body.after)"),
            p("trigger", "git-push"),
            p("trigger-time", "$(body.head_commit.timestamp)"),
        ]),
        binding(BINDINGS.dataset, [
            p("dataset", datasetObject("$(body.detail.object.key)")),
            p("trigger", "dataset-change"),
            p("trigger-time", "$(body.time)"),
            p("study-task", "retrain-changed-data"),
        ]),
        binding(BINDINGS.alert, [
            p("trigger", "$(body.commonLabels.alertname)"),
            p("trigger-time", "$(body.alerts[0].startsAt)"),
            p("study-task", "retrain-changed-data"),
        ]),
    ];
}

/** What the template's run needs besides the pipeline: its tasks (service accounts, GPU steps) and GPU placement. */
export type TemplateRunOptions = Pick<RunOptions, "trainingGpus" | "gpuScheduling" | "storageClass">;

/**
 * The TriggerTemplate: a train-and-deploy PipelineRun for one model, built by the run builder (each task as its
 * role's service account, the source workspace, GPU placement) with `$(tt.params.*)` as param values, so the
 * builder's checks (only declared params, every required one) hold for every run a trigger creates.
 */
export function trainAndDeployTemplate(
    pipeline: Pipeline,
    tasks: readonly TaskLike[],
    opts: TemplateRunOptions,
    sourceRepository: string,
) {
    if (pipeline.metadata.name !== TRAIN_AND_DEPLOY)
        throw new Error(`the triggers start ${TRAIN_AND_DEPLOY}, not ${pipeline.metadata.name}`);
    const tt = (name: string) => `$(tt.params.${name})`;
    const run: PipelineRun = pipelineRun(pipeline, tasks, {
        ...opts,
        params: {
            model: tt("model"),
            "git-url": tt("git-url"),
            "git-revision": tt("git-revision"),
            "source-dir": modelSourceDir(tt("model")),
            dataset: tt("dataset"),
            "trigger-time": tt("trigger-time"),
            "study-task": tt("study-task"),
        },
    });
    return {
        apiVersion: TRIGGERS_API,
        kind: "TriggerTemplate",
        metadata: meta(TRAIN_AND_DEPLOY),
        spec: {
            params: templateParams(sourceRepository),
            resourcetemplates: [
                {
                    ...run,
                    metadata: {
                        generateName: `${tt("model")}-${TRAIN_AND_DEPLOY}-`,
                        namespace: run.metadata.namespace,
                        labels: {
                            ...run.metadata.labels,
                            [MODEL_LABEL_KEYS.model]: tt("model"),
                            "mlops-testbed/trigger": tt("trigger"),
                        },
                    },
                },
            ],
        },
    };
}

/** One trigger of the EventListener. */
export function trigger(kind: TriggerKind, model: string) {
    const interceptors: object[] = [];
    if (kind === "git") {
        interceptors.push({
            name: "verify-github-signature",
            ref: { name: "github", kind: "ClusterInterceptor" },
            params: [
                {
                    name: "secretRef",
                    value: { secretName: GIT_WEBHOOK_SECRET.name, secretKey: GIT_WEBHOOK_SECRET.key },
                },
                { name: "eventTypes", value: ["push"] },
            ],
        });
    }
    interceptors.push({
        name: "filter",
        ref: { name: "cel", kind: "ClusterInterceptor" },
        params: [{ name: "filter", value: celFilter(kind, model) }],
    });
    // A push or an alert retrains on the newest data under the model's prefix; a dataset event names its object.
    const dataset = kind === "dataset" ? [] : [{ name: "dataset", value: latestDataset(model) }];
    return {
        name: `${model}-${BINDINGS[kind]}`,
        interceptors,
        bindings: [{ ref: BINDINGS[kind] }, { name: "model", value: model }, ...dataset],
        template: { ref: TRAIN_AND_DEPLOY },
    };
}

/** The EventListener: every trigger of every model; its pods run where system workloads run. */
export function eventListener(
    models: readonly string[],
    scheduling: { nodeSelector: Record<string, string>; tolerations: readonly object[] },
    kinds: readonly TriggerKind[] = TRIGGER_KINDS,
) {
    return {
        apiVersion: TRIGGERS_API,
        kind: "EventListener",
        metadata: meta(EVENT_LISTENER.name),
        spec: {
            serviceAccountName: LISTENER_SERVICE_ACCOUNT,
            triggers: models.flatMap((m) => kinds.map((k) => trigger(k, m))),
            resources: {
                kubernetesResource: {
                    spec: {
                        template: {
                            spec: {
                                nodeSelector: { ...scheduling.nodeSelector },
                                tolerations: [...scheduling.tolerations],
                            },
                        },
                    },
                },
            },
        },
    };
}

/** Labels Tekton Triggers puts on the EventListener's pods (NetworkPolicies select them). */
export const LISTENER_POD_LABELS = { eventlistener: EVENT_LISTENER.name } as const;
