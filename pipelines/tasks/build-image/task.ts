import { IMAGES } from "../../../contract/versions";
import { PLATFORMS, STEP_RUNTIME, STEP_RUNTIME_PATH } from "../../core/runtime";
import {
    LIB_PATH,
    pythonStep,
    RESOURCES,
    SOURCE_DIR_PARAM,
    SOURCE_WORKSPACE_DECL,
    type TaskDefinition,
} from "../../core/context";
import { param, readScript, resultPath } from "../../core/tekton";

const CONTEXT = "$(workspaces.source.path)/image";
const AUTH_FILE = "/stage/auth.json";

export const BUILD_IMAGE: TaskDefinition = {
    name: "build-image",
    description:
        "Builds the model-server image for every target platform (the step runtime with the model's pinned packages, and its code; the model itself is loaded from the store) and pushes the manifest list to the registry.",
    role: "builder",
    stage: "build",
    params: [
        SOURCE_DIR_PARAM,
        { name: "commit", description: "Source commit; the image tag is <commit>-<TaskRun name>, one per build." },
    ],
    results: [{ name: "image", description: "Pushed image reference with digest." }],
    workspaces: [SOURCE_WORKSPACE_DECL],
    steps: [
        pythonStep(__dirname, "prepare", "prepare.py", [
            { name: "LIB", value: LIB_PATH },
            // The step runtime this Task runs on (renderTask puts its reference in the steps' image).
            { name: "BASE_IMAGE", value: STEP_RUNTIME },
            { name: "RUNTIME_PACKAGES", value: STEP_RUNTIME_PATH },
            { name: "COMMIT", value: param("commit") },
            { name: "CONTEXT", value: CONTEXT },
            { name: "AUTH_FILE", value: AUTH_FILE },
        ]),
        {
            name: "build-push",
            image: IMAGES.buildah,
            script: readScript(__dirname, "build-push.sh"),
            computeResources: RESOURCES.build,
            env: [
                { name: "CONTEXT", value: CONTEXT },
                { name: "AUTH_FILE", value: AUTH_FILE },
                { name: "COMMIT", value: param("commit") },
                // Unique per build: models of one commit, and rebuilds of it, never share a tag (ECR's are immutable).
                { name: "BUILD_ID", value: "$(context.taskRun.name)" },
                { name: "RESULT_IMAGE", value: resultPath("image") },
                { name: "PLATFORMS", value: PLATFORMS },
                { name: "BASE_FROM_REGISTRY", value: "true" },
            ],
        },
    ],
};
