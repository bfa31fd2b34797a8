import { MODEL_SERVER_PORTS } from "../../../components/k8s/constants";
import { libStep, type TaskDefinition } from "../../context";
import { param } from "../../tekton";

export const DEPLOY: TaskDefinition = {
    name: "deploy",
    description:
        "Rolls out the model version's server (Deployment, HPA, PDB) in its namespace and waits until it is available.",
    role: "deployer",
    stage: "deploy",
    params: [
        { name: "image", description: "Model-server image (with digest)." },
        {
            name: "build",
            description:
                "Build of the version to serve (models/<model>/<version>/<build>/); empty: its newest, resolved when each pod starts.",
            default: "",
        },
        { name: "replicas", description: "Replicas (the HPA's minimum; maximum is 3x).", default: "1" },
        { name: "gpu", description: "GPUs per replica (0: CPU only).", default: "0" },
        {
            name: "pod-labels",
            description: "Extra pod labels the platform's workload identity needs (JSON object).",
            default: "{}",
        },
    ],
    steps: [
        libStep(__dirname, "deploy", "deploy.py", [
            { name: "MODEL", value: param("model") },
            { name: "VERSION", value: param("version") },
            { name: "IMAGE", value: param("image") },
            { name: "BUILD", value: param("build") },
            { name: "REPLICAS", value: param("replicas") },
            { name: "GPU", value: param("gpu") },
            { name: "POD_LABELS", value: param("pod-labels") },
            { name: "HTTP_PORT", value: String(MODEL_SERVER_PORTS.http) },
            { name: "METRICS_PORT", value: String(MODEL_SERVER_PORTS.metrics) },
        ]),
    ],
};
