import { z } from "zod";
import { wholeNumber } from "./common";

export const pipelinesSchema = z.strictObject({
    /** Finished PipelineRuns kept per pipeline before they are pruned. */
    keepRuns: wholeNumber("keepRuns", 1, 1000).default(50),
});
