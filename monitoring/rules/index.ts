/**
 * Prometheus rules as code: the recording rules the dashboards query, and the alerts, with thresholds from the
 * stack config. The monitoring component turns each group set into a PrometheusRule; tests run `promtool` on them.
 */
import type { AlertThresholds } from "../../contract/config/monitoring";
import { METRICS, NAMESPACE_LABELS, RECORDED, kubeStateLabel } from "../../contract/metric-contract";

export interface RecordingRule {
    readonly record: string;
    readonly expr: string;
    readonly labels?: Readonly<Record<string, string>>;
}

export interface AlertingRule {
    readonly alert: string;
    readonly expr: string;
    readonly for?: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly annotations: { readonly summary: string; readonly description: string };
}

export interface RuleGroup<R> {
    readonly name: string;
    /** Evaluation interval of the group; the global one when absent. */
    readonly interval?: string;
    readonly rules: readonly R[];
}

/** Alerts with this label go to the retrain receiver, which posts them to the pipelines' EventListener. */
export const RETRAIN_LABEL = { key: "action", value: "retrain" } as const;

/** Evaluation interval of the GPU idle group; idle GPU-hours = samples / (60 / minutes). */
export const GPU_IDLE_INTERVAL_MINUTES = 1;

/**
 * Finished PipelineRuns, counted by the duration histogram: its `_count` carries `pipeline`, `namespace` and `status`
 * (at config-observability level `pipeline`), while `tekton_pipelines_controller_pipelinerun_total` carries only
 * `status` (test/facts/metrics/tekton-pipelines-controller-*.json).
 */
const PIPELINERUNS = "tekton_pipelines_controller_pipelinerun_duration_seconds_count";

const MVN = "model, version, namespace";
/** Joins a per-namespace expression with the model and version of its namespace (model-version namespaces only). */
export function withModelVersion(expr: string, selector = ""): string {
    return `(${expr}) * on (namespace) group_left (model, version) ${RECORDED.namespaceModelVersion}${selector}`;
}

export function recordingGroups(thresholds: AlertThresholds): RuleGroup<RecordingRule>[] {
    const ksmModel = kubeStateLabel(NAMESPACE_LABELS.model);
    const ksmVersion = kubeStateLabel(NAMESPACE_LABELS.version);
    const req = METRICS.requests.name;
    const dur = METRICS.requestDuration.name;
    const quantile = (q: number) => `histogram_quantile(${q}, sum by (${MVN}, le) (rate(${dur}_bucket[5m])))`;
    return [
        {
            name: "mlops-testbed.model-serving",
            rules: [
                { record: RECORDED.requestRate, expr: `sum by (${MVN}) (rate(${req}[5m]))` },
                {
                    record: RECORDED.errorRatio,
                    expr: `sum by (${MVN}) (rate(${METRICS.requestErrors.name}[5m])) / sum by (${MVN}) (rate(${req}[5m]) > 0)`,
                },
                { record: RECORDED.latencyP50, expr: quantile(0.5) },
                { record: RECORDED.latencyP95, expr: quantile(0.95) },
                { record: RECORDED.latencyP99, expr: quantile(0.99) },
            ],
        },
        {
            name: "mlops-testbed.namespaces",
            rules: [
                {
                    record: RECORDED.namespaceModelVersion,
                    expr:
                        `max by (namespace, model, version) (label_replace(label_replace(kube_namespace_labels{${ksmModel}!=""}, ` +
                        `"model", "$1", "${ksmModel}", "(.+)"), "version", "$1", "${ksmVersion}", "(.+)"))`,
                },
                {
                    record: RECORDED.namespaceCpu,
                    expr: `sum by (namespace) (rate(container_cpu_usage_seconds_total{container!="", image!=""}[5m]))`,
                },
                {
                    record: RECORDED.namespaceMemory,
                    expr: `sum by (namespace) (container_memory_working_set_bytes{container!="", image!=""})`,
                },
                { record: RECORDED.namespaceGpuUtil, expr: `avg by (namespace) (DCGM_FI_DEV_GPU_UTIL{namespace!=""})` },
                {
                    record: RECORDED.namespaceGpuMemory,
                    expr: `sum by (namespace) (DCGM_FI_DEV_FB_USED{namespace!=""})`,
                },
                {
                    record: RECORDED.quotaUsed,
                    expr: `max by (namespace, resource) (kube_resourcequota{type="used"} / ignoring (type) (kube_resourcequota{type="hard"} > 0))`,
                },
            ],
        },
        {
            name: "mlops-testbed.gpu",
            interval: `${GPU_IDLE_INTERVAL_MINUTES}m`,
            rules: [
                {
                    record: RECORDED.gpuIdle,
                    expr: `max by (node, gpu) (DCGM_FI_DEV_GPU_UTIL) < bool ${thresholds.gpuIdleUtilizationPercent}`,
                },
            ],
        },
        {
            name: "mlops-testbed.delivery",
            rules: [
                {
                    record: RECORDED.pipelineSuccess,
                    expr:
                        `sum by (pipeline) (increase(${PIPELINERUNS}{status="success"}[1d])) ` +
                        `/ sum by (pipeline) (increase(${PIPELINERUNS}[1d]) > 0)`,
                },
                {
                    record: RECORDED.pipelineRunsPerDay,
                    expr: `sum by (pipeline) (increase(${PIPELINERUNS}[1d]))`,
                },
                { record: RECORDED.leadTimeByMode, expr: `avg by (mode) (${METRICS.deployLeadTime.name})` },
                { record: RECORDED.failureRatioByMode, expr: `1 - avg by (mode) (${METRICS.deliveryResult.name})` },
                { record: RECORDED.cpuSecondsByMode, expr: `avg by (mode) (${METRICS.deliveryCpuSeconds.name})` },
                { record: RECORDED.gpuSecondsByMode, expr: `avg by (mode) (${METRICS.deliveryGpuSeconds.name})` },
            ],
        },
    ];
}

export function alertGroups(t: AlertThresholds): RuleGroup<AlertingRule>[] {
    const retrain = () => ({ severity: "warning", [RETRAIN_LABEL.key]: RETRAIN_LABEL.value });
    return [
        {
            name: "mlops-testbed.alerts",
            rules: [
                {
                    alert: "GpuNodeIdle",
                    expr: `max by (node) (DCGM_FI_DEV_GPU_UTIL) < ${t.gpuIdleUtilizationPercent}`,
                    for: t.gpuIdleFor,
                    labels: { severity: "info" },
                    annotations: {
                        summary: "GPU node {{ $labels.node }} has been idle for " + t.gpuIdleFor,
                        description: `Every GPU on {{ $labels.node }} has stayed under ${t.gpuIdleUtilizationPercent}% utilization for ${t.gpuIdleFor}; it costs money and does no work. Check that the autoscaler can remove it (no pods pinned to it).`,
                    },
                },
                {
                    alert: "ModelAccuracyLow",
                    expr: `${METRICS.predictionAccuracy.name} < ${t.accuracyMin}`,
                    for: t.servingFor,
                    labels: retrain(),
                    annotations: {
                        summary:
                            "{{ $labels.model }}/{{ $labels.version }} accuracy is {{ $value | humanizePercentage }}",
                        description: `Live accuracy against labelled feedback of {{ $labels.model }} version {{ $labels.version }} (namespace {{ $labels.namespace }}) is under ${t.accuracyMin}; a retrain is requested.`,
                    },
                },
                {
                    alert: "ModelDataDrift",
                    expr: `max by (${MVN}) (${METRICS.dataDrift.name}) > ${t.driftMax}`,
                    for: t.servingFor,
                    labels: retrain(),
                    annotations: {
                        summary: "{{ $labels.model }}/{{ $labels.version }} input data drifted (score {{ $value }})",
                        description: `A feature's drift score for {{ $labels.model }} version {{ $labels.version }} is above ${t.driftMax}; a retrain on recent data is requested.`,
                    },
                },
                {
                    alert: "ModelLatencyHigh",
                    expr: `${RECORDED.latencyP95} > ${t.latencyP95Seconds}`,
                    for: t.servingFor,
                    labels: { severity: "warning" },
                    annotations: {
                        summary:
                            "{{ $labels.model }}/{{ $labels.version }} p95 latency is {{ $value | humanizeDuration }}",
                        description: `p95 request latency of {{ $labels.model }} version {{ $labels.version }} is over its objective of ${t.latencyP95Seconds}s.`,
                    },
                },
                {
                    alert: "ModelErrorRateHigh",
                    expr: `${RECORDED.errorRatio} > ${t.errorRatioMax}`,
                    for: t.servingFor,
                    labels: { severity: "critical" },
                    annotations: {
                        summary:
                            "{{ $labels.model }}/{{ $labels.version }} fails {{ $value | humanizePercentage }} of requests",
                        description: `More than ${t.errorRatioMax * 100}% of requests to {{ $labels.model }} version {{ $labels.version }} fail.`,
                    },
                },
                {
                    alert: "PipelineRunsFailing",
                    expr: `sum by (pipeline, namespace) (increase(${PIPELINERUNS}{status="failed"}[1h])) > ${t.pipelineFailuresPerHour}`,
                    labels: { severity: "warning" },
                    annotations: {
                        summary: "Pipeline {{ $labels.pipeline }} has failing runs",
                        description: `Pipeline {{ $labels.pipeline }} in {{ $labels.namespace }} had more than ${t.pipelineFailuresPerHour} failed runs in the last hour.`,
                    },
                },
                {
                    alert: "ModelPodCrashLooping",
                    expr:
                        withModelVersion(
                            `max by (namespace, pod, container) (kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff"})`,
                        ) + " > 0",
                    for: "5m",
                    labels: { severity: "critical" },
                    annotations: {
                        summary: "{{ $labels.model }}/{{ $labels.version }} pod {{ $labels.pod }} is crash-looping",
                        description:
                            "Container {{ $labels.container }} of pod {{ $labels.pod }} in {{ $labels.namespace }} has been in CrashLoopBackOff for 5 minutes.",
                    },
                },
                {
                    alert: "ModelQuotaNearlyExhausted",
                    expr: withModelVersion(RECORDED.quotaUsed) + ` > ${t.quotaUsedRatio}`,
                    for: "15m",
                    labels: { severity: "warning" },
                    annotations: {
                        summary:
                            "{{ $labels.namespace }} uses {{ $value | humanizePercentage }} of its {{ $labels.resource }} quota",
                        description: `Namespace {{ $labels.namespace }} ({{ $labels.model }}/{{ $labels.version }}) uses more than ${t.quotaUsedRatio * 100}% of its ${"{{ $labels.resource }}"} quota; new pods may not schedule.`,
                    },
                },
            ],
        },
    ];
}

/** The PrometheusRule specs: recording rules and alerts in separate objects. */
export function prometheusRuleSpecs(
    t: AlertThresholds,
): { name: string; groups: RuleGroup<RecordingRule | AlertingRule>[] }[] {
    return [
        { name: "mlops-testbed-recording", groups: recordingGroups(t) },
        { name: "mlops-testbed-alerts", groups: alertGroups(t) },
    ];
}

/** Every PromQL expression of every rule, with where it comes from (for the tests). */
export function ruleExpressions(t: AlertThresholds): { where: string; expr: string }[] {
    return prometheusRuleSpecs(t).flatMap((spec) =>
        spec.groups.flatMap((g) =>
            g.rules.map((r) => ({
                where: `${spec.name}/${g.name}/${"record" in r ? r.record : r.alert}`,
                expr: r.expr,
            })),
        ),
    );
}
