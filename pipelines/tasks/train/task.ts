import {
    pythonStep,
    RESOURCES,
    SOURCE_DIR_PARAM,
    SOURCE_WORKSPACE_DECL,
    type TaskDefinition,
} from "../../core/context";
import { param, resultPath } from "../../core/tekton";

export const TRAIN: TaskDefinition = {
    name: "train",
    description: "Trains the model on the validated data; runs on a GPU node when the run asks for GPUs.",
    role: "trainer",
    stage: "train",
    gpuStep: "train",
    params: [
        SOURCE_DIR_PARAM,
        { name: "model-kind", description: "Estimator of the reference model: logreg or rf.", default: "logreg" },
        { name: "seed", description: "Random seed (split and estimator).", default: "42" },
    ],
    results: [{ name: "train-accuracy", description: "Accuracy on the training split." }],
    workspaces: [SOURCE_WORKSPACE_DECL],
    steps: [
        pythonStep(
            __dirname,
            "train",
            "train.sh",
            [
                { name: "MODEL_KIND", value: param("model-kind") },
                { name: "SEED", value: param("seed") },
                { name: "RESULT_TRAIN_ACCURACY", value: resultPath("train-accuracy") },
            ],
            RESOURCES.training,
        ),
    ],
};
