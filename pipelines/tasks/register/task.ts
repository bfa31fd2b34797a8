import { pythonStep, SOURCE_DIR_PARAM, SOURCE_WORKSPACE_DECL, type TaskDefinition } from "../../core/context";
import { param, resultPath } from "../../core/tekton";

export const REGISTER: TaskDefinition = {
    name: "register",
    description:
        "Uploads the evaluated model as a new build, models/<model>/<version>/<build>/, with a model card JSON (builds are immutable).",
    role: "trainer",
    stage: "register",
    params: [
        SOURCE_DIR_PARAM,
        { name: "git-url", description: "Repository of the source, for the model card.", default: "" },
        { name: "commit", description: "Commit the model was trained from." },
        { name: "dataset-version", description: "Version id of the training data." },
        { name: "started-at", description: "Unix time the run started.", default: "" },
    ],
    results: [
        { name: "uri", description: "Store URI of the registered build." },
        { name: "build", description: "Id of the registered build (UTC time and commit)." },
    ],
    workspaces: [SOURCE_WORKSPACE_DECL],
    steps: [
        pythonStep(__dirname, "register", "register.py", [
            { name: "MODEL", value: param("model") },
            { name: "VERSION", value: param("version") },
            { name: "MODE", value: param("mode") },
            { name: "COMMIT", value: param("commit") },
            { name: "GIT_URL", value: param("git-url") },
            { name: "DATASET_VERSION", value: param("dataset-version") },
            { name: "STARTED_AT", value: param("started-at") },
            { name: "PIPELINE_RUN", value: "$(context.pipelineRun.name)" },
            { name: "RESULT_URI", value: resultPath("uri") },
            { name: "RESULT_BUILD", value: resultPath("build") },
        ]),
    ],
};
