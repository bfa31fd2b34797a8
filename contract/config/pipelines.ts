import { z } from "zod";
import { wholeNumber } from "./common";

const share = (key: string) =>
    z
        .number({ error: `${key} must be a number from 0 to 1 (a share of correct predictions)` })
        .min(0, { error: `${key} must be a number from 0 to 1 (a share of correct predictions)` })
        .max(1, { error: `${key} must be a number from 0 to 1 (a share of correct predictions)` });

const bounded = (key: string, max: number) =>
    z
        .number({ error: `${key} must be a number from 0 to ${max}` })
        .min(0, { error: `${key} must be a number from 0 to ${max}` })
        .max(max, { error: `${key} must be a number from 0 to ${max}` });

/**
 * Progressive promotion by the deploy pipeline. The absolute objectives (error ratio, p95 latency, accuracy)
 * are the serving alerts' thresholds in `monitoring.alerts`; these settings say how to step and what to compare.
 */
export const promotionSchema = z.strictObject({
    /**
     * Candidate weights (percent of live traffic) of a canary, one analysis at each; rising, ending at 100 (checked
     * against the promotion's own rules by pipelines/promotion/config-rules.ts).
     */
    canarySteps: z.array(wholeNumber("canarySteps[]", 1, 100)).default([10, 25, 50, 100]),
    /** Seconds between a change of weights and its analysis; the analysis reads 5-minute rates, so 300 or more. */
    analysisIntervalSeconds: wholeNumber("analysisIntervalSeconds", 30, 3600).default(300),
    /** Analyses of mirrored traffic a shadow must pass. */
    shadowAnalyses: wholeNumber("shadowAnalyses", 1, 20).default(3),
    /** Highest ratio of the candidate's p95 latency to the baseline's (1.25: at most 25 % slower). */
    latencyRegressionMax: z
        .number({ error: "latencyRegressionMax must be a number from 1 to 10, e.g. 1.25" })
        .min(1, { error: "latencyRegressionMax must be a number from 1 to 10, e.g. 1.25" })
        .max(10, { error: "latencyRegressionMax must be a number from 1 to 10, e.g. 1.25" })
        .default(1.25),
    /** How much lower than the baseline's the candidate's accuracy may be. */
    accuracyTolerance: bounded("accuracyTolerance", 1).default(0.02),
    /** Fewest requests per second the candidate must serve for an analysis to count (else it is held). */
    minRequestRate: z
        .number({ error: "minRequestRate must be a number of requests per second, 0 or more" })
        .min(0, { error: "minRequestRate must be a number of requests per second, 0 or more" })
        .default(0.05),
    /** Whether a candidate without accuracy (no labelled feedback yet) is held like one without traffic. */
    requireAccuracy: z.boolean({ error: "requireAccuracy must be true or false" }).default(false),
    /** Analyses in a row without data that are held; one more rolls back. */
    maxMissingAnalyses: wholeNumber("maxMissingAnalyses", 0, 100).default(3),
});

export const pipelinesSchema = z.strictObject({
    /** Finished PipelineRuns kept per pipeline before they are pruned. */
    keepRuns: wholeNumber("keepRuns", 1, 1000).default(50),
    /** Evaluation gate: lowest accepted accuracy (default of the pipelines' `threshold` param). */
    accuracyThreshold: share("accuracyThreshold").default(0.9),
    /** Evaluation gate: largest accepted accuracy drop below the production version (`tolerance` param). */
    accuracyTolerance: share("accuracyTolerance").default(0.02),
    /** GPUs a training run requests (0: train on CPU nodes); runs started with the run builder use it. */
    trainingGpus: wholeNumber("trainingGpus", 0, 8).default(0),
    /**
     * Repository of the models' source (models/<model>/ in it) that dataset and alert triggers build from; a push
     * names its own. Absent: only pushes trigger deliveries.
     */
    sourceRepository: z
        .string({ error: "sourceRepository must be a git URL, e.g. https://github.com/example-org/models.git" })
        .regex(/^(https:\/\/|ssh:\/\/|git@)\S+$/, {
            error: "sourceRepository must be a git URL (https://, ssh:// or git@), e.g. https://github.com/example-org/models.git",
        })
        .optional(),
    /** How the deploy pipeline steps traffic to a new version and when it rolls back. */
    promotion: promotionSchema.default(promotionSchema.parse({})),
});

export type PipelinesConfig = z.infer<typeof pipelinesSchema>;
export type PromotionConfig = z.infer<typeof promotionSchema>;
