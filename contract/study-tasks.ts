/**
 * The standardized tasks of a study: what a person (or the pipelines) performs with each delivery mode so the
 * modes can be compared on the same work. Defined once here; the task table of docs/study.md and `npm run report` read it.
 *
 * Every run of a task, in every mode, pushes the contract's per-run metrics (labels `mode`, `task` = the task id,
 * `run` = a run id unique per run; see RUN_LABELS in contract/metric-contract.ts): lead time from the start event
 * to the end event, the outcome, the resources used, the rollbacks performed, the end time, and for the tasks that
 * recover from a failure the time to recover.
 */
import { DELIVERY_MODES, METRICS, type DeliveryMode, type MetricKey } from "./metric-contract";

export interface ModeProcedure {
    /** The event that starts the clock. */
    readonly start: string;
    /** The event that stops it (a run that never gets there is pushed as failed). */
    readonly end: string;
}

export interface StudyTask {
    /** Value of the `task` label; stable, used in queries. */
    readonly id: string;
    readonly title: string;
    /** What the task asks for, whatever the mode. */
    readonly goal: string;
    /** Start and end events per delivery mode. */
    readonly modes: Readonly<Record<DeliveryMode, ModeProcedure>>;
    /** The contract metric that records the task's main figure. */
    readonly recordedBy: MetricKey;
    /** Whether the task recovers from a failure, so its runs push the time to recover. */
    readonly recovers: boolean;
}

const automatedStart = (trigger: string) => `${trigger} (the EventListener receives it)`;

export const STUDY_TASKS: readonly StudyTask[] = [
    {
        id: "deploy-new-version",
        title: "Deploy a new model version",
        goal: "A changed model (code or parameters) goes from commit to serving as a new version.",
        modes: {
            automated: {
                start: automatedStart("git push of the model change"),
                end: "the new version serves traffic and its smoke test passed",
            },
            simplified: {
                start: "the person runs the simplified pipeline for the commit",
                end: "the new version serves traffic and its smoke test passed",
            },
            manual: {
                start: "the person starts the runbook for the commit",
                end: "the person confirms the new version serves (runbook smoke test)",
            },
        },
        recordedBy: "deployLeadTime",
        recovers: false,
    },
    {
        id: "retrain-changed-data",
        title: "Retrain on changed data",
        goal: "A new dataset version (or a drift alert) leads to a retrained, evaluated version serving.",
        modes: {
            automated: {
                start: automatedStart("new data in the datasets store or a ModelDataDrift alert"),
                end: "the retrained version passed the evaluation gate and serves",
            },
            simplified: {
                start: "the person runs the simplified retrain for the new data",
                end: "the retrained version passed the evaluation gate and serves",
            },
            manual: {
                start: "the person starts the retrain runbook for the new data",
                end: "the person confirms the retrained version is evaluated and serving",
            },
        },
        recordedBy: "deployLeadTime",
        recovers: false,
    },
    {
        id: "rollback-bad-version",
        title: "Roll back a bad version",
        goal: "A serving version turns out bad (accuracy or error alert); traffic goes back to the previous version.",
        modes: {
            automated: {
                start: "the alert that marks the version bad fires (ModelAccuracyLow or ModelErrorRateHigh)",
                end: "100% of traffic on the previous version",
            },
            simplified: {
                start: "the person runs the rollback command after the alert",
                end: "100% of traffic on the previous version",
            },
            manual: {
                start: "the person acknowledges the alert and starts the rollback runbook",
                end: "the person confirms 100% of traffic on the previous version",
            },
        },
        recordedBy: "recoveryTime",
        recovers: true,
    },
    {
        id: "side-by-side",
        title: "Run N versions side by side",
        goal: "N versions of one model serve at once (canary, blue-green or shadow split) for comparison.",
        modes: {
            automated: {
                start: automatedStart("git push of the route change naming N versions"),
                end: "all N versions ready and the route carries the requested split",
            },
            simplified: {
                start: "the person runs the simplified pipeline with N versions",
                end: "all N versions ready and the route carries the requested split",
            },
            manual: {
                start: "the person starts the side-by-side runbook",
                end: "the person confirms all N versions serve with the requested split",
            },
        },
        recordedBy: "deployLeadTime",
        recovers: false,
    },
    {
        id: "recover-failed-deployment",
        title: "Recover from a failed deployment",
        goal: "A deployment of a broken version (bad image or model file) fails; service is restored.",
        modes: {
            automated: {
                start: automatedStart("git push of the broken version"),
                end: "a good version serves again (the pipeline rolled back or redeployed)",
            },
            simplified: {
                start: "the person runs the simplified pipeline with the broken version",
                end: "a good version serves again",
            },
            manual: {
                start: "the person starts the runbook with the broken version",
                end: "the person confirms a good version serves again",
            },
        },
        recordedBy: "recoveryTime",
        recovers: true,
    },
    {
        id: "deliver-several-models",
        title: "Deliver several models at once",
        goal: "N models (1, 2 or 4) each get a new version at the same time; the scalability table compares the levels.",
        modes: {
            automated: {
                start: automatedStart("one git push changing the N models"),
                end: "each model's new version serves traffic and its smoke test passed",
            },
            simplified: {
                start: "the person starts the simplified pipeline for each of the N models at once",
                end: "each model's new version serves traffic and its smoke test passed",
            },
            manual: {
                start: "the person starts the runbook for each of the N models at once (one shell each)",
                end: "the person confirms each model's new version serves (runbook smoke test)",
            },
        },
        recordedBy: "deployLeadTime",
        recovers: false,
    },
];

/**
 * The task whose runs the scalability table compares by `concurrency`: the same delivery per mode at every level, so
 * the levels differ only in how many ran at once.
 */
export const SCALABILITY_TASK = "deliver-several-models";

/** Task ids, in the order the report lists them. */
export const TASK_IDS = STUDY_TASKS.map((t) => t.id);

/** The contract metric name that records a task's main figure. */
export function recordingMetric(task: StudyTask): string {
    return METRICS[task.recordedBy].name;
}

export { DELIVERY_MODES };
