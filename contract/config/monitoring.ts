import { z } from "zod";
import { promDuration, quantity, wholeNumber } from "./common";

const ratio = (key: string) =>
    z
        .number({ error: `${key} must be a number from 0 to 1 (a share, e.g. 0.9 for 90%)` })
        .min(0, { error: `${key} must be a number from 0 to 1 (a share, e.g. 0.9 for 90%)` })
        .max(1, { error: `${key} must be a number from 0 to 1 (a share, e.g. 0.9 for 90%)` });

const positive = (key: string, example: string) =>
    z
        .number({ error: `${key} must be a positive number, e.g. ${example}` })
        .positive({ error: `${key} must be a positive number, e.g. ${example}` });

/** Alert thresholds; every alert rule reads its threshold from here. */
export const alertThresholdsSchema = z.strictObject({
    /** A GPU whose utilization stays under this percentage counts as idle. */
    gpuIdleUtilizationPercent: wholeNumber("gpuIdleUtilizationPercent", 0, 100).default(5),
    /** How long a GPU node must stay idle before GpuNodeIdle fires. */
    gpuIdleFor: promDuration.default("30m"),
    /** ModelAccuracyLow fires (and asks for a retrain) when live accuracy against labelled feedback drops below this. */
    accuracyMin: ratio("accuracyMin").default(0.9),
    /** ModelDataDrift fires (and asks for a retrain) when any feature's drift score exceeds this. */
    driftMax: positive("driftMax", "0.3").default(0.3),
    /** ModelLatencyHigh fires when a version's p95 request latency exceeds this many seconds. */
    latencyP95Seconds: positive("latencyP95Seconds", "0.5").default(0.5),
    /** ModelErrorRateHigh fires when this share of a version's requests fail. */
    errorRatioMax: ratio("errorRatioMax").default(0.05),
    /** PipelineRunsFailing fires when a pipeline has more than this many failed runs in an hour. */
    pipelineFailuresPerHour: wholeNumber("pipelineFailuresPerHour", 0, 1000).default(0),
    /** ModelQuotaNearlyExhausted fires when a model-version namespace uses this share of any quota. */
    quotaUsedRatio: ratio("quotaUsedRatio").default(0.9),
    /** How long a serving condition (accuracy, drift, latency, errors) must hold before its alert fires. */
    servingFor: promDuration.default("10m"),
});

const resourcesSchema = z.strictObject({
    cpu: quantity,
    memory: quantity,
});

export const monitoringSchema = z.strictObject({
    /** How long Prometheus keeps samples. */
    retention: promDuration.default("15d"),
    /** Size of the Prometheus volume. */
    storageSize: quantity.default("50Gi"),
    /** Size of the Alertmanager volume (silences, notification log). */
    alertmanagerStorageSize: quantity.default("2Gi"),
    /** How often Prometheus scrapes targets and evaluates rules. */
    scrapeInterval: promDuration.default("30s"),
    /** Requests of the Prometheus server; its memory grows with series and retention. */
    prometheusResources: resourcesSchema.default({ cpu: "500m", memory: "2Gi" }),
    /** Days a batch run's metrics stay on the Pushgateway after its last push (Prometheus keeps their history). */
    pushgatewayKeepDays: wholeNumber("pushgatewayKeepDays", 1, 3650).default(30),
    /** Alert thresholds. */
    alerts: alertThresholdsSchema.default(alertThresholdsSchema.parse({})),
});

export type MonitoringConfig = z.infer<typeof monitoringSchema>;
export type AlertThresholds = z.infer<typeof alertThresholdsSchema>;
