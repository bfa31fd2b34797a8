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
    results: [{ name: "train-accuracy", description: "Accuracy on the training split." }],
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
            ],
            RESOURCES.training,
        ),
    ],
};
