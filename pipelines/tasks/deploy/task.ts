import { MODEL_SERVER_PORTS } from "../../../contract/names";
import { kubeStep, type TaskDefinition } from "../../core/context";
import { param } from "../../core/tekton";

export const DEPLOY: TaskDefinition = {
    name: "deploy",
    description:
        "Rolls out the model version's server (Deployment, HPA, PDB) in its namespace, as its deploy settings say, and waits until it is available.",
    role: "deployer",
    stage: "deploy",
    params: [
        { name: "image", description: "Model-server image, pinned by digest (<repository>[:<tag>]@sha256:<digest>)." },
        {
            name: "build",
            description:
                "Build of the version to serve (models/<model>/<version>/<build>/); empty: its newest, resolved when each pod starts.",
            default: "",
        },
        {
            name: "replicas",
            description:
                "Replicas (the HPA's minimum); empty: the version's deploy settings (model-server-deploy), from the stack config.",
            default: "",
        },
        {
            name: "gpu",
            description: "GPUs per replica (0: CPU only); empty: the version's deploy settings.",
            default: "",
        },
        {
            name: "pod-labels",
            description: "Extra pod labels the platform's workload identity needs (JSON object).",
            default: "{}",
        },
    ],
    steps: [
        kubeStep(__dirname, "deploy", "deploy.py", [
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
