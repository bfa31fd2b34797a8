import { GATEWAY_NAMESPACE, MODEL_SERVER, TRAFFIC_STRATEGY_LABEL } from "../../../contract/names";
import { RESOURCES, kubeStep, libStep, type TaskDefinition } from "../../core/context";
import { param, resultPath } from "../../core/tekton";

/** Values of the `rollout` result: which task moves traffic to the new version (see choose.py). */
export const ROLLOUTS = { progressive: "progressive", switch: "switch", inPlace: "in-place" } as const;

const ENV = [
    { name: "MODEL", value: param("model") },
    { name: "VERSION", value: param("version") },
    { name: "STRATEGY", value: param("strategy") },
    { name: "GATEWAY_NAMESPACE", value: GATEWAY_NAMESPACE },
    { name: "STRATEGY_LABEL", value: TRAFFIC_STRATEGY_LABEL },
    { name: "SERVICE_NAME", value: MODEL_SERVER.name },
    { name: "RESULT_VERSION", value: resultPath("version") },
    { name: "RESULT_BASELINE", value: resultPath("baseline") },
    { name: "RESULT_STRATEGY", value: resultPath("strategy") },
    { name: "RESULT_ROLLOUT", value: resultPath("rollout") },
];

/**
 * Reads the model's HTTPRoute and chooses the version a delivery deploys into (the one asked for, or the standby
 * slot: least live traffic), the baseline it is compared with (the other version serving most), the strategy
 * (asked for, or the model's configured one) and how traffic moves (promote, switch or nothing).
 */
export const CHOOSE_VERSIONS: TaskDefinition = {
    name: "choose-versions",
    description:
        "Chooses the version to deliver (asked for, or the configured version with the least traffic), the baseline serving most, the strategy and the rollout, from the model's HTTPRoute.",
    role: "deployer",
    params: [
        { name: "model", description: "Model name." },
        {
            name: "version",
            description:
                "Version to deliver; empty: the configured version with the least live traffic (the standby slot).",
            default: "",
        },
        {
            name: "strategy",
            description:
                "single, canary, blue-green or shadow; empty: the model's traffic.strategy (its route's label).",
            default: "",
        },
    ],
    results: [
        {
            name: "version",
            description:
                "The version to deploy (its namespace is <model>-<version>); when no choice could be made, the version asked for or none.",
        },
        { name: "baseline", description: "The version serving most of the other traffic; empty: none." },
        { name: "strategy", description: "The traffic strategy of this delivery." },
        {
            name: "rollout",
            description:
                "progressive (promote), switch (route all at once), in-place (nothing to move), or none when no choice could be made.",
        },
    ],
    // The first step writes every result before anything can fail (a finally task referencing an unwritten result
    // is skipped, so a failed run would report nothing); the choose step overwrites them with its choice.
    steps: [
        {
            ...libStep(
                __dirname,
                "results",
                "choose.py",
                [...ENV, { name: "RESULTS_ONLY", value: "1" }],
                RESOURCES.tiny,
            ),
        },
        kubeStep(__dirname, "choose", "choose.py", ENV),
    ],
};
