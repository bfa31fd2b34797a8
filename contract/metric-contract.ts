/**
 * The model metrics contract: the metric names, types and labels that model servers, training and evaluation
 * steps and the delivery tooling export, so dashboards and alerts work for any model a user brings. Dashboards,
 * Prometheus rules, the pipelines and the reference model server all import this module; docs/monitoring.md documents it.
 *
 * - Model servers expose `/metrics` on MODEL_SERVER_PORTS.metrics (port name `metrics`) and carry the pod label
 *   MODEL_SERVER_POD_LABEL; the monitoring stack's PodMonitor scrapes every such pod in every namespace.
 * - Batch steps (training, evaluation, deployment, the manual/simplified delivery scripts) push their gauges to
 *   the Pushgateway, grouped by `model`, `version` and `mode`.
 */

import { MODEL_LABEL_KEYS, MODEL_SERVER } from "./names";

/** Labels every contract metric carries. */
export const MODEL_LABELS = ["model", "version", "namespace"] as const;

/** How a model version was delivered; the research compares these. */
export const DELIVERY_MODES = ["automated", "simplified", "manual"] as const;
export type DeliveryMode = (typeof DELIVERY_MODES)[number];

/**
 * Labels of the metrics one run of a standardized task pushes (contract/study-tasks.ts): the delivery `mode`, the
 * `task` id and a `run` id unique per run (e.g. the PipelineRun name, or `<date>-<who>` for a manual run), so each
 * run is its own series and the report can count runs and take medians over them. Pushed with the Pushgateway
 * grouping key `job`/`task`/`run`, so one run never overwrites another.
 */
export const RUN_LABELS = ["mode", "task", "run"] as const;

/** Pod label (key and value) that marks a model server for scraping: the one its Service selects. */
export const MODEL_SERVER_POD_LABEL = {
    key: "app.kubernetes.io/name",
    value: MODEL_SERVER.podLabels["app.kubernetes.io/name"],
} as const;
/** Name of the container port model servers expose metrics on. */
export const MODEL_SERVER_METRICS_PORT_NAME = "metrics";

/**
 * Labels the model-version namespaces carry, so cluster metrics (CPU, memory, GPU, quota, restarts) can be
 * attributed to a model version. kube-state-metrics exports them as `label_<key with . / - as _>`.
 */
export const NAMESPACE_LABELS = MODEL_LABEL_KEYS;

/** Prometheus label name kube-state-metrics gives a Kubernetes label key. */
export function kubeStateLabel(key: string): string {
    return `label_${key.replace(/[^A-Za-z0-9_]/g, "_")}`;
}

export type MetricType = "counter" | "gauge" | "histogram";
export type MetricSource = "model-server" | "pipeline-step";

export interface MetricSpec {
    /** Prometheus metric name (a histogram's base name, without _bucket/_sum/_count). */
    readonly name: string;
    readonly type: MetricType;
    readonly help: string;
    /** Every label the metric carries, in the order to document them. */
    readonly labels: readonly string[];
    /** Who exports it: scraped from model servers, or pushed to the Pushgateway by batch steps. */
    readonly source: MetricSource;
    /** Histogram buckets (seconds). */
    readonly buckets?: readonly number[];
}

const M = MODEL_LABELS;

/** The contract, one entry per metric. */
export const METRICS = {
    requests: {
        name: "mlops_model_requests_total",
        type: "counter",
        help: "Prediction requests served, by HTTP status code.",
        labels: [...M, "code"],
        source: "model-server",
    },
    requestErrors: {
        name: "mlops_model_request_errors_total",
        type: "counter",
        help: "Prediction requests that failed (5xx or an exception in the model).",
        labels: [...M],
        source: "model-server",
    },
    requestDuration: {
        name: "mlops_model_request_duration_seconds",
        type: "histogram",
        help: "Prediction request latency, from request received to response written.",
        labels: [...M],
        source: "model-server",
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    },
    predictionAccuracy: {
        name: "mlops_model_prediction_accuracy",
        type: "gauge",
        help: "Share (0-1) of recent predictions that match the labelled feedback received for them.",
        labels: [...M],
        source: "model-server",
    },
    feedback: {
        name: "mlops_model_feedback_total",
        type: "counter",
        help: "Labelled feedback samples received (the accuracy gauge's sample size).",
        labels: [...M],
        source: "model-server",
    },
    dataDrift: {
        name: "mlops_model_data_drift_score",
        type: "gauge",
        help: "Data-drift score per input feature of recent requests against the training data (two-sample Kolmogorov-Smirnov statistic); 0 is no drift, 1 disjoint.",
        labels: [...M, "feature"],
        source: "model-server",
    },
    stageDuration: {
        name: "mlops_pipeline_stage_duration_seconds",
        type: "gauge",
        help: "Duration of one delivery stage (train, evaluate, build, deploy, ...) of one task run.",
        labels: [...M, "pipeline", "stage", "mode", "task", "run"],
        source: "pipeline-step",
    },
    trainingAccuracy: {
        name: "mlops_training_accuracy",
        type: "gauge",
        help: "Accuracy (0-1) on the training set at the end of training.",
        labels: [...M, "dataset_version", "mode"],
        source: "pipeline-step",
    },
    evaluationAccuracy: {
        name: "mlops_evaluation_accuracy",
        type: "gauge",
        help: "Accuracy (0-1) on the held-out evaluation set.",
        labels: [...M, "dataset_version", "mode"],
        source: "pipeline-step",
    },
    datasetInfo: {
        name: "mlops_dataset_info",
        type: "gauge",
        help: "Always 1; names the dataset version a model version was trained on.",
        labels: [...M, "dataset_version", "mode"],
        source: "pipeline-step",
    },
    deployLeadTime: {
        name: "mlops_deploy_lead_time_seconds",
        type: "gauge",
        help: "Lead time of one task run, from its start event (commit, new data, drift alert, or a person starting it) to its end event (the version serving, or the run given up).",
        labels: [...M, "mode", "task", "run"],
        source: "pipeline-step",
    },
    deliveryResult: {
        name: "mlops_delivery_result",
        type: "gauge",
        help: "Outcome of one task run for a model version: 1 succeeded (its end event reached), 0 failed.",
        labels: [...M, "mode", "task", "run"],
        source: "pipeline-step",
    },
    deliveryCpuSeconds: {
        name: "mlops_delivery_cpu_seconds",
        type: "gauge",
        help: "CPU-seconds one task run used, over all its stages.",
        labels: [...M, "mode", "task", "run"],
        source: "pipeline-step",
    },
    deliveryGpuSeconds: {
        name: "mlops_delivery_gpu_seconds",
        type: "gauge",
        help: "GPU-seconds (GPUs held x seconds) one task run used.",
        labels: [...M, "mode", "task", "run"],
        source: "pipeline-step",
    },
    deliveryMemoryByteSeconds: {
        name: "mlops_delivery_memory_byte_seconds",
        type: "gauge",
        help: "Memory one task run held, integrated over time (working-set bytes x seconds, over all its stages).",
        labels: [...M, "mode", "task", "run"],
        source: "pipeline-step",
    },
    deliveryRollbacks: {
        name: "mlops_delivery_rollbacks",
        type: "gauge",
        help: "Rollbacks one task run performed (traffic moved back to a previous version); 0 when none.",
        labels: [...M, "mode", "task", "run"],
        source: "pipeline-step",
    },
    recoveryTime: {
        name: "mlops_recovery_time_seconds",
        type: "gauge",
        help: "Time to recover in one task run: from the failure being detected (failed deployment, bad version found) to a good version serving again.",
        labels: [...M, "mode", "task", "run"],
        source: "pipeline-step",
    },
    deliveryEnd: {
        name: "mlops_delivery_end_timestamp_seconds",
        type: "gauge",
        help: "Unix time one task run ended (its end event, or the run given up); the report selects runs by it.",
        labels: [...M, "mode", "task", "run"],
        source: "pipeline-step",
    },
    lastRollback: {
        name: "mlops_last_rollback_timestamp_seconds",
        type: "gauge",
        help: "Unix time of the last rollback away from a model version.",
        labels: [...M, "mode"],
        source: "pipeline-step",
    },
} as const satisfies Record<string, MetricSpec>;

export type MetricKey = keyof typeof METRICS;

/** Every series name the contract produces (histograms expand to _bucket, _sum and _count). */
export function contractSeriesNames(): string[] {
    return Object.values(METRICS).flatMap((m: MetricSpec) =>
        m.type === "histogram" ? [`${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`] : [m.name],
    );
}

/** Recording-rule names (monitoring/rules records them): dashboards, alerts and the promotion analysis refer to them by constant. */
export const RECORDED = {
    namespaceModelVersion: "namespace:mlops_model_version:info",
    requestRate: "model_version:mlops_model_requests:rate5m",
    errorRatio: "model_version:mlops_model_request_errors:ratio_rate5m",
    latencyP50: "model_version:mlops_model_request_duration_seconds:p50_5m",
    latencyP95: "model_version:mlops_model_request_duration_seconds:p95_5m",
    latencyP99: "model_version:mlops_model_request_duration_seconds:p99_5m",
    namespaceCpu: "namespace:mlops_cpu_usage_cores:rate5m",
    namespaceMemory: "namespace:mlops_memory_working_set_bytes:sum",
    namespaceGpuUtil: "namespace:mlops_gpu_utilization_percent:avg",
    namespaceGpuMemory: "namespace:mlops_gpu_memory_used_mib:sum",
    quotaUsed: "namespace:mlops_quota_used:ratio",
    gpuIdle: "node_gpu:mlops_gpu_idle:bool",
    pipelineSuccess: "pipeline:mlops_tekton_pipelinerun_success:ratio_1d",
    pipelineRunsPerDay: "pipeline:mlops_tekton_pipelineruns:increase1d",
    leadTimeByMode: "mode:mlops_deploy_lead_time_seconds:avg",
    failureRatioByMode: "mode:mlops_delivery_failure:ratio",
    cpuSecondsByMode: "mode:mlops_delivery_cpu_seconds:avg",
    gpuSecondsByMode: "mode:mlops_delivery_gpu_seconds:avg",
} as const;
