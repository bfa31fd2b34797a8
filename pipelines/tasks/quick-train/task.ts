import {
    LIB_PATH,
    pythonStep,
    SOURCE_DIR_PARAM,
    SOURCE_WORKSPACE_DECL,
    RESOURCES,
    type TaskDefinition,
} from "../../core/context";
import { param, resultPath } from "../../core/tekton";

export const QUICK_TRAIN: TaskDefinition = {
    name: "quick-train",
    description:
        "Simplified delivery: trains and uploads the model in one step, with no data validation and no evaluation gate.",
    role: "trainer",
    stage: "train",
    gpuStep: "train-upload",
    params: [SOURCE_DIR_PARAM, { name: "dataset", description: "Built-in dataset name.", default: "iris" }],
    results: [
        { name: "train-accuracy", description: "Accuracy on the training split." },
        { name: "accuracy", description: "Accuracy on the holdout (scored, not gated)." },
        { name: "dataset-version", description: "Version id of the data: builtin-<name>-<content hash>." },
    ],
    workspaces: [SOURCE_WORKSPACE_DECL],
    steps: [
        pythonStep(
            __dirname,
            "train-upload",
            "quick_train.sh",
            [
                { name: "LIB", value: LIB_PATH },
                { name: "DATASET_NAME", value: param("dataset") },
                { name: "MODEL", value: param("model") },
                { name: "VERSION", value: param("version") },
                { name: "RESULT_TRAIN_ACCURACY", value: resultPath("train-accuracy") },
                { name: "RESULT_ACCURACY", value: resultPath("accuracy") },
                { name: "RESULT_DATASET_VERSION", value: resultPath("dataset-version") },
            ],
            RESOURCES.training,
        ),
    ],
};
