import { IMAGES } from "../../../contract/versions";
import { RESOURCES, STEP_PYTHONPATH, type TaskDefinition } from "../../core/context";
import { STEP_RUNTIME } from "../../core/runtime";
import { param, readScript, resultPath, workspacePath } from "../../core/tekton";

export const FETCH_SOURCE: TaskDefinition = {
    name: "fetch-source",
    description:
        "Clones one revision of the model's git repository into the source workspace and checks that the step runtime has its pinned Python packages.",
    role: "trainer",
    params: [
        { name: "git-url", description: "Repository URL of the model's source." },
        { name: "git-revision", description: "Branch, tag or commit to check out.", default: "main" },
        {
            name: "source-dir",
            description:
                "Directory of the model (train.py, evaluate.py, server.py, requirements.txt) in the repository.",
            default: "pipelines/workload",
        },
    ],
    results: [
        { name: "commit", description: "The commit checked out." },
        {
            name: "started-at",
            description: "Unix time the run started fetching (the lead-time start when no trigger time is given).",
        },
    ],
    workspaces: [{ name: "source", description: "Receives the repository (repo/)." }],
    steps: [
        {
            name: "clone",
            image: IMAGES.git,
            script: readScript(__dirname, "clone.sh"),
            computeResources: RESOURCES.small,
            env: [
                { name: "GIT_URL", value: param("git-url") },
                { name: "GIT_REVISION", value: param("git-revision") },
                { name: "DEST", value: workspacePath("source") },
                { name: "RESULT_COMMIT", value: resultPath("commit") },
                { name: "RESULT_STARTED_AT", value: resultPath("started-at") },
            ],
        },
        {
            name: "check-runtime",
            image: STEP_RUNTIME,
            script: readScript(__dirname, "check-runtime.sh"),
            computeResources: RESOURCES.small,
            env: [
                { name: "DEST", value: workspacePath("source") },
                { name: "SOURCE_DIR", value: param("source-dir") },
                { name: "PYTHONPATH", value: STEP_PYTHONPATH },
            ],
        },
    ],
};
