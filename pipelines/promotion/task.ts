/**
 * The `promote` Task and the ConfigMap that ships its script. The script is decide.ts and step.ts transpiled
 * on their own (no bundler: step.ts imports only Node built-ins and ./decide), so the cluster runs the very
 * function the tests check. Thresholds come from the stack config: the serving objectives of
 * `monitoring.alerts` and the stepping of `pipelines.promotion`.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { transformSync } from "esbuild";
import { METRICS } from "../../contract/metric-contract";
import { GATEWAY_NAMESPACE, PART_OF, PIPELINE_SERVICE_ACCOUNTS, PIPELINES_NAMESPACE } from "../../contract/names";
import { PROMETHEUS_URL, PUSHGATEWAY_URL } from "../../contract/names";
import type { AlertThresholds } from "../../contract/config/monitoring";
import type { PromotionConfig } from "../../contract/config/pipelines";
import { IMAGES } from "../../contract/versions";
import {
    LIB_PATH,
    RUN_IDENTITY_ENV,
    ROLE_LABEL,
    SETTINGS_CONFIGMAP,
    STEP_USAGE_FILE,
    libraryVolume,
    metricEnv,
} from "../core/context";
import type { ParamSpec } from "../core/tekton";
import type { PromotionThresholds } from "./decide";
import { sampleQueries } from "./queries";

export const PROMOTE_TASK = "promote";
export const PROMOTION_SCRIPTS_CONFIGMAP = "promotion-step";
/** Where the scripts are mounted in the step. */
export const PROMOTION_SCRIPTS_DIR = "/promotion";
/** The modules shipped, by file name in the ConfigMap. */
const SOURCES = { "decide.js": "decide.ts", "step.js": "step.ts" } as const;

/** Transpiled output by source text: the same source always transpiles the same, and a plan asks for it every time. */
const transpiled = new Map<string, string>();

/**
 * decide.ts and step.ts as CommonJS, by file name. esbuild (tsx's transformer, already loaded to run the program)
 * strips the types: loading the TypeScript compiler and running it for two files cost a plan about 0.35 s of CPU.
 * A syntax error throws, naming the file.
 */
export function promotionScripts(): Record<string, string> {
    return Object.fromEntries(
        Object.entries(SOURCES).map(([js, src]) => {
            const source = readFileSync(path.join(__dirname, src), "utf8");
            const known = transpiled.get(source);
            if (known !== undefined) return [js, known];
            const out = transformSync(source, { loader: "ts", format: "cjs", target: "es2022", sourcefile: src });
            transpiled.set(source, out.code);
            return [js, out.code];
        }),
    );
}

/** The decision's thresholds from the stack config. */
export function promotionThresholds(p: PromotionConfig, alerts: AlertThresholds): PromotionThresholds {
    return {
        errorRatioMax: alerts.errorRatioMax,
        latencyP95MaxSeconds: alerts.latencyP95Seconds,
        latencyRegressionMax: p.latencyRegressionMax,
        accuracyMin: alerts.accuracyMin,
        accuracyTolerance: p.accuracyTolerance,
        minRequestRate: p.minRequestRate,
        requireAccuracy: p.requireAccuracy,
        maxMissingAnalyses: p.maxMissingAnalyses,
    };
}

const param = (name: string, description: string, def?: string): ParamSpec => ({
    name,
    type: "string",
    description,
    ...(def !== undefined ? { default: def } : {}),
});

/** The `promote` Task (Tekton v1). Runs as the deployer, which may patch the model routes and nothing else of the gateway. */
export function promoteTask(p: PromotionConfig, alerts: AlertThresholds) {
    const env = (name: string, value: string) => ({ name, value });
    const ns = (v: string) => `$(params.model)-$(params.${v})`;
    return {
        apiVersion: "tekton.dev/v1",
        kind: "Task",
        metadata: {
            name: PROMOTE_TASK,
            namespace: PIPELINES_NAMESPACE,
            // The run builder runs each task as the service account its label names.
            labels: { "app.kubernetes.io/part-of": PART_OF, [ROLE_LABEL]: PIPELINE_SERVICE_ACCOUNTS.deployer.name },
        },
        spec: {
            description:
                "Progressive promotion of a model version: canary steps, blue-green switch or shadow comparison, with a Prometheus " +
                "analysis between steps; rolls back (weights to the baseline, rollback metric pushed) and fails when an analysis fails.",
            params: [
                param("model", "Model name."),
                param("candidate-version", "The new version (its namespace is <model>-<version>)."),
                param("baseline-version", "The version serving now, which the candidate is compared with."),
                param("strategy", "canary, blue-green or shadow (the model's traffic.strategy)."),
                param("mode", "Delivery mode label of the rollback metric.", "automated"),
            ],
            results: [
                { name: "decision", type: "string", description: "promote or rollback" },
                { name: "reason", type: "string", description: "The last analysis, in words." },
            ],
            volumes: [
                { name: "scripts", configMap: { name: PROMOTION_SCRIPTS_CONFIGMAP } },
                // The usage wrapper (in the pipeline library) and its scratch space: the root filesystem is read-only.
                libraryVolume("pipeline-lib"),
                { name: "stage", emptyDir: {} },
            ],
            steps: [
                {
                    name: "promote",
                    image: IMAGES.node,
                    // Under the usage wrapper like every step of the pipelines (pipelines/core/context.ts measuredStep).
                    command: [
                        "sh",
                        `${LIB_PATH}/${STEP_USAGE_FILE}`,
                        "exec",
                        "promote",
                        "last",
                        "--",
                        "node",
                        "-e",
                        `require("${PROMOTION_SCRIPTS_DIR}/step.js").main().catch((e) => { console.error(e); process.exit(2); });`,
                    ],
                    env: [
                        env("PROMETHEUS_URL", PROMETHEUS_URL),
                        env("PUSHGATEWAY_URL", PUSHGATEWAY_URL),
                        env("MODEL", "$(params.model)"),
                        env("MODE", "$(params.mode)"),
                        env("CANDIDATE_VERSION", "$(params.candidate-version)"),
                        env("CANDIDATE_NAMESPACE", ns("candidate-version")),
                        env("BASELINE_VERSION", "$(params.baseline-version)"),
                        env("BASELINE_NAMESPACE", ns("baseline-version")),
                        env("STRATEGY", "$(params.strategy)"),
                        env("CANARY_STEPS", JSON.stringify(p.canarySteps)),
                        env("SHADOW_ANALYSES", String(p.shadowAnalyses)),
                        env("INTERVAL_SECONDS", String(p.analysisIntervalSeconds)),
                        env("THRESHOLDS", JSON.stringify(promotionThresholds(p, alerts))),
                        env("QUERIES", JSON.stringify(sampleQueries())),
                        env("ROUTE_NAMESPACE", GATEWAY_NAMESPACE),
                        // The model's route name is in the pipelines' settings (the deployer may patch only those routes).
                        {
                            name: "MODEL_ROUTES",
                            valueFrom: { configMapKeyRef: { name: SETTINGS_CONFIGMAP, key: "MODEL_ROUTES" } },
                        },
                        env("ROLLBACK_METRIC", METRICS.lastRollback.name),
                        env("RESULT_DECISION_PATH", "$(results.decision.path)"),
                        env("RESULT_REASON_PATH", "$(results.reason.path)"),
                        ...RUN_IDENTITY_ENV,
                        ...metricEnv(),
                    ],
                    volumeMounts: [
                        { name: "scripts", mountPath: PROMOTION_SCRIPTS_DIR, readOnly: true },
                        { name: "pipeline-lib", mountPath: LIB_PATH, readOnly: true },
                        { name: "stage", mountPath: "/stage" },
                    ],
                    computeResources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "128Mi" } },
                    securityContext: {
                        runAsNonRoot: true,
                        runAsUser: 1000,
                        allowPrivilegeEscalation: false,
                        readOnlyRootFilesystem: true,
                        capabilities: { drop: ["ALL"] },
                        seccompProfile: { type: "RuntimeDefault" },
                    },
                },
            ],
        },
    };
}
