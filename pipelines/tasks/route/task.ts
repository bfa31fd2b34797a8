import { GATEWAY_NAMESPACE, MODEL_SERVER } from "../../../contract/names";
import { kubeStep, type TaskDefinition } from "../../core/context";
import { param } from "../../core/tekton";

/**
 * Where the deploy pipeline hands traffic to the new version. The strategy param names how: `single` and
 * `blue-green` switch all traffic at once; progressive strategies are promotion tasks that replace this one.
 */
export const ROUTE: TaskDefinition = {
    name: "route",
    description: "Sends all of a model's live traffic to one version by setting the weights of its HTTPRoute.",
    role: "deployer",
    stage: "route",
    params: [
        {
            name: "strategy",
            description: "Traffic strategy: single or blue-green (switch all traffic).",
            default: "single",
        },
    ],
    steps: [
        kubeStep(__dirname, "route", "route.py", [
            { name: "MODEL", value: param("model") },
            { name: "VERSION", value: param("version") },
            { name: "STRATEGY", value: param("strategy") },
            { name: "GATEWAY_NAMESPACE", value: GATEWAY_NAMESPACE },
            { name: "SERVICE_NAME", value: MODEL_SERVER.name },
        ]),
    ],
};
