import { libStep, type TaskDefinition } from "../../core/context";
import { param } from "../../core/tekton";

export const REPORT: TaskDefinition = {
    name: "report",
    description:
        "Pushes the run's delivery metrics (lead time, result, accuracies, dataset, rollback time) to the Pushgateway; runs in every pipeline's finally.",
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
        { name: "started-at", description: "Unix time the run started.", default: "" },
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
            { name: "RUN", value: "$(context.pipelineRun.name)" },
            { name: "TRIGGER_TIME", value: param("trigger-time") },
            { name: "STARTED_AT", value: param("started-at") },
            { name: "TRAIN_ACCURACY", value: param("train-accuracy") },
            { name: "EVAL_ACCURACY", value: param("eval-accuracy") },
            { name: "DATASET_VERSION", value: param("dataset-version") },
        ]),
    ],
};
