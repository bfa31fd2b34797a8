import { pythonStep, SOURCE_DIR_PARAM, SOURCE_WORKSPACE_DECL, type TaskDefinition } from "../../core/context";
import { param, resultPath } from "../../core/tekton";

export const VALIDATE_DATA: TaskDefinition = {
    name: "validate-data",
    description:
        "Fetches the training data, checks its schema and tests it for drift (Kolmogorov-Smirnov) against the production version's reference data.",
    role: "trainer",
    stage: "validate",
    params: [
        SOURCE_DIR_PARAM,
        {
            name: "dataset",
            description:
                "builtin:<name> (a dataset shipped with scikit-learn) or store:<key> (an object in the datasets store).",
            default: "builtin:iris",
        },
        {
            name: "production-version",
            description:
                "Version serving now, whose reference data the drift test compares against; empty: no drift test.",
            default: "",
        },
        {
            name: "drift-alpha",
            description: "Significance level of the KS test (Bonferroni-corrected over features).",
            default: "0.05",
        },
        { name: "fail-on-drift", description: "true: fail the run when the data drifted.", default: "false" },
        { name: "min-rows", description: "Fewest rows accepted.", default: "30" },
    ],
    results: [
        { name: "dataset-version", description: "Version id of the data (store object version, or a content hash)." },
        { name: "drift", description: "true when the data drifted from production's reference." },
    ],
    workspaces: [SOURCE_WORKSPACE_DECL],
    steps: [
        pythonStep(__dirname, "validate", "validate_data.py", [
            { name: "DATASET", value: param("dataset") },
            { name: "MODEL", value: param("model") },
            { name: "PRODUCTION_VERSION", value: param("production-version") },
            { name: "DRIFT_ALPHA", value: param("drift-alpha") },
            { name: "FAIL_ON_DRIFT", value: param("fail-on-drift") },
            { name: "MIN_ROWS", value: param("min-rows") },
            { name: "RESULT_DATASET_VERSION", value: resultPath("dataset-version") },
            { name: "RESULT_DRIFT", value: resultPath("drift") },
        ]),
    ],
};
