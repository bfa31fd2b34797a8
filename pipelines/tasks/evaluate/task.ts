import { LIB_PATH, pythonStep, SOURCE_DIR_PARAM, SOURCE_WORKSPACE_DECL, type TaskDefinition } from "../../core/context";
import { param, resultPath } from "../../core/tekton";

export const EVALUATE: TaskDefinition = {
    name: "evaluate",
    description:
        "Scores the model on its holdout set; fails the run when accuracy is under the threshold or worse than production's by more than the tolerance.",
    role: "trainer",
    stage: "evaluate",
    params: [
        SOURCE_DIR_PARAM,
        {
            name: "production-version",
            description: "Version serving now, whose metrics.json is the baseline; empty: threshold only.",
            default: "",
        },
        { name: "threshold", description: "Lowest accepted accuracy (0-1)." },
        { name: "tolerance", description: "Largest accepted accuracy drop below production (0-1)." },
    ],
    results: [{ name: "accuracy", description: "Accuracy on the holdout set." }],
    workspaces: [SOURCE_WORKSPACE_DECL],
    steps: [
        pythonStep(__dirname, "evaluate", "evaluate.sh", [
            { name: "LIB", value: LIB_PATH },
            { name: "MODEL", value: param("model") },
            { name: "PRODUCTION_VERSION", value: param("production-version") },
            { name: "THRESHOLD", value: param("threshold") },
            { name: "TOLERANCE", value: param("tolerance") },
            { name: "RESULT_ACCURACY", value: resultPath("accuracy") },
        ]),
    ],
};
