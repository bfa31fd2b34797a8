import { z } from "zod";
import { wholeNumber } from "./common";

const share = (key: string) =>
    z
        .number({ error: `${key} must be a number from 0 to 1 (a share of correct predictions)` })
        .min(0, { error: `${key} must be a number from 0 to 1 (a share of correct predictions)` })
        .max(1, { error: `${key} must be a number from 0 to 1 (a share of correct predictions)` });

export const pipelinesSchema = z.strictObject({
    /** Finished PipelineRuns kept per pipeline before they are pruned. */
    keepRuns: wholeNumber("keepRuns", 1, 1000).default(50),
    /** Evaluation gate: lowest accepted accuracy (default of the pipelines' `threshold` param). */
    accuracyThreshold: share("accuracyThreshold").default(0.9),
    /** Evaluation gate: largest accepted accuracy drop below the production version (`tolerance` param). */
    accuracyTolerance: share("accuracyTolerance").default(0.02),
    /** GPUs a training run requests (0: train on CPU nodes); runs started with the run builder use it. */
    trainingGpus: wholeNumber("trainingGpus", 0, 8).default(0),
});

export type PipelinesConfig = z.infer<typeof pipelinesSchema>;
