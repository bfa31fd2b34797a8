import { type ConfigIssue, keyPath, rawArray, rawRecord } from "../../contract/config/issues";
import { stepProblems } from "./decide";

/**
 * Rules of `pipelines.promotion` that need the promotion's own logic: the canary steps must be steps the in-cluster
 * decision accepts (decide.ts, which ships as is and so cannot import the config schema). Reads the raw config
 * defensively like the cloud rules: a value of the wrong shape is left to the schema, which reports it.
 */
export function validatePromotionConfig(raw: Record<string, unknown>): ConfigIssue[] {
    const value = rawRecord(rawRecord(raw.pipelines).promotion).canarySteps;
    const steps = rawArray(value);
    if (!Array.isArray(value) || !steps.every((w) => Number.isInteger(w) && (w as number) >= 1 && (w as number) <= 100))
        return [];
    return stepProblems("canary", steps as number[]).map((p) => ({
        key: keyPath(["pipelines", "promotion", "canarySteps"]),
        message: `${p}, e.g. [10, 25, 50, 100]`,
        value,
    }));
}
