import { z } from "zod";
import { dnsLabel, quantity, wholeNumber } from "./common";

export const TRAFFIC_STRATEGIES = ["single", "canary", "blue-green", "shadow"] as const;
export type TrafficStrategy = (typeof TRAFFIC_STRATEGIES)[number];

/** Per-version overrides of the namespace ResourceQuota; unset fields take the stack's `quotaDefaults`. */
export const quotaSchema = z.strictObject({
    cpu: quantity.optional(),
    memory: quantity.optional(),
    gpu: wholeNumber("gpu", 0, 64).optional(),
    pods: wholeNumber("pods", 1, 1000).optional(),
    storage: quantity.optional(),
});

export const modelVersionSchema = z.strictObject({
    name: dnsLabel(30),
    /** Model server replicas. */
    replicas: wholeNumber("replicas", 0, 100).default(1),
    /** GPUs per model-server replica (0: CPU only). */
    gpu: wholeNumber("gpu", 0, 8).default(0),
    quota: quotaSchema.default({}),
});

export const trafficSchema = z.strictObject({
    strategy: z.enum(TRAFFIC_STRATEGIES, { error: `must be one of ${TRAFFIC_STRATEGIES.join(", ")}` }),
    /** Percent of traffic per version name; must sum to 100. */
    weights: z.record(z.string(), wholeNumber("weight", 0, 100)).optional(),
    /** With `shadow`: the serving version whose traffic is mirrored to the other one. */
    shadowOf: z.string().optional(),
});

export const modelSchema = z.strictObject({
    name: dnsLabel(30),
    versions: z.array(modelVersionSchema).min(1, { error: "needs at least one version" }).max(50, { error: "at most 50 versions per model" }),
    traffic: trafficSchema.default({ strategy: "single" }),
});

export const quotaDefaultsSchema = z.strictObject({
    cpu: quantity.default("8"),
    memory: quantity.default("32Gi"),
    gpu: wholeNumber("gpu", 0, 64).default(1),
    pods: wholeNumber("pods", 1, 1000).default(20),
    storage: quantity.default("50Gi"),
});

export const modelsSchema = z.array(modelSchema).max(100, { error: "at most 100 models" }).default([]);
