import { MODEL_SERVER, MODEL_SERVER_PORTS } from "../../../contract/names";
import { libStep, type TaskDefinition } from "../../core/context";
import { param } from "../../core/tekton";

export const SMOKE_TEST: TaskDefinition = {
    name: "smoke-test",
    description:
        "Checks the deployed version answers /healthz and /predict through its Service (allowed from the pipelines namespace).",
    role: "deployer",
    stage: "smoke-test",
    params: [
        {
            name: "instances",
            description: "JSON list of inputs to predict.",
            default: "[[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]",
        },
    ],
    steps: [
        libStep(__dirname, "smoke", "smoke.py", [
            {
                name: "URL",
                value: `http://${MODEL_SERVER.name}.$(params.model)-$(params.version).svc.cluster.local:${MODEL_SERVER_PORTS.http}`,
            },
            { name: "VERSION", value: param("version") },
            { name: "INSTANCES", value: param("instances") },
        ]),
    ],
};
