import { STUDY_TASKS } from "../../../contract/study-tasks";
import { libStep, type TaskDefinition } from "../../core/context";
import { param } from "../../core/tekton";

/**
 * The finally tasks a pipeline runs this Task as: the delivery's outcome, and the trained version's accuracies. They
 * measure the run, so the run's resources leave their own usage out (report.py, MEASURING_TASKS).
 */
export const REPORT_TASKS = { delivery: "report", training: "report-training" } as const;

export const REPORT: TaskDefinition = {
    name: "report",
    description:
        "Pushes the run's delivery metrics (lead time, result, rollbacks, time to recover, resources its steps used, human actions) or, for event train, its accuracies and dataset to the Pushgateway; runs in every pipeline's finally.",
    role: "trainer",
    params: [
        { name: "event", description: "train, deploy or rollback." },
        { name: "status", description: "The pipeline's $(tasks.status)." },
        { name: "model", description: "Model name." },
        { name: "version", description: "Version delivered (or rolled back to)." },
        { name: "from-version", description: "Rollback only: the version traffic moved away from.", default: "" },
        { name: "mode", description: "Delivery mode: automated, simplified or manual.", default: "automated" },
        {
            name: "study-task",
            description:
                "Standardized study task this run performs (contract/study-tasks.ts), for deploy and rollback runs.",
            default: "",
        },
        {
            name: "trigger-time",
            description: "Unix time of the trigger (commit, data, alert); empty: the run's start.",
            default: "",
        },
        {
            name: "started-at",
            description: "Unix time the run started; empty: the earliest start of its TaskRuns (their pushed usage).",
            default: "",
        },
        {
            name: "promote-status",
            description:
                "The promote task's $(tasks.promote.status): Failed when its analysis rolled back; empty: none.",
            default: "",
        },
        {
            name: "human-actions",
            description:
                "Actions a person performed for this run (1: the push or command that started it, 0: an alert).",
            default: "1",
        },
        {
            name: "hands-on-seconds",
            description: "Time a person spent on this run, when whoever started it measured it; empty: not recorded.",
            default: "",
        },
        {
            name: "concurrency",
            description: "Deliveries started at once, this one included (the study's scalability runs: 1, 2, 4).",
            default: "1",
        },
        { name: "train-accuracy", description: "Training accuracy, when the run trained.", default: "" },
        { name: "eval-accuracy", description: "Evaluation accuracy, when the run evaluated.", default: "" },
        { name: "dataset-version", description: "Dataset version, when the run trained.", default: "" },
    ],
    steps: [
        libStep(__dirname, "push", "report.py", [
            { name: "EVENT", value: param("event") },
            { name: "STATUS", value: param("status") },
            { name: "MODEL", value: param("model") },
            { name: "VERSION", value: param("version") },
            { name: "FROM_VERSION", value: param("from-version") },
            { name: "MODE", value: param("mode") },
            { name: "STUDY_TASK", value: param("study-task") },
            { name: "TRIGGER_TIME", value: param("trigger-time") },
            { name: "STARTED_AT", value: param("started-at") },
            { name: "PROMOTE_STATUS", value: param("promote-status") },
            { name: "HUMAN_ACTIONS", value: param("human-actions") },
            { name: "HANDS_ON_SECONDS", value: param("hands-on-seconds") },
            { name: "CONCURRENCY", value: param("concurrency") },
            { name: "MEASURING_TASKS", value: JSON.stringify(Object.values(REPORT_TASKS)) },
            {
                name: "RECOVERING_TASKS",
                value: JSON.stringify(STUDY_TASKS.filter((t) => t.recovers).map((t) => t.id)),
            },
            { name: "TRAIN_ACCURACY", value: param("train-accuracy") },
            { name: "EVAL_ACCURACY", value: param("eval-accuracy") },
            { name: "DATASET_VERSION", value: param("dataset-version") },
        ]),
    ],
};
