/**
 * The promotion decision: one pure function that, given where a progressive rollout stands and what Prometheus
 * says about the candidate and the baseline version, says what to do next. The promotion step that runs in the
 * cluster (step.ts, compiled and shipped with the Task) calls exactly this function between its analyses; the
 * tests call it over metric series.
 *
 * This module has no runtime imports on purpose: it is transpiled on its own into the step's ConfigMap.
 *
 * Rules, in order:
 * 1. Missing data: the candidate has no request rate, too little traffic, no error ratio or no p95 latency (or
 *    no accuracy while `requireAccuracy`) → `hold` (weights unchanged) and count it; when the count of
 *    consecutive analyses without data would exceed `maxMissingAnalyses` → `rollback`. NaN counts as missing.
 * 2. Any threshold broken by the candidate → `rollback` (weights back to the baseline, all of them):
 *    error ratio over `errorRatioMax`; p95 over `latencyP95MaxSeconds`, or over `latencyRegressionMax` × the
 *    baseline's p95; accuracy under `accuracyMin`, or under the baseline's accuracy − `accuracyTolerance`.
 *    A comparison with the baseline is made only when the baseline has that value (a first version has no
 *    baseline traffic); the absolute thresholds always apply. Accuracy missing (no labelled feedback yet) skips
 *    the accuracy checks unless `requireAccuracy`.
 * 3. Otherwise the analysis passed: `advance` to the next step, or `promote` after the last one.
 *
 * Steps per strategy:
 * - canary: the candidate's weights in order, e.g. [10, 25, 50, 100]; an analysis at each; `promote` after the
 *   analysis at the last step (which must be 100).
 * - blue-green: [0, 100]: the analysis at 0 judges the candidate on smoke-test traffic while the baseline serves
 *   everything; then all traffic switches at once and a second analysis confirms it; a failure there rolls back
 *   instantly because the baseline was kept running (warm). `promote` leaves the baseline running too.
 * - shadow: the candidate never serves (weight 0 at every step); each step is one analysis of the mirrored
 *   traffic; `promote` means the candidate passed the comparison (its latency and error and accuracy against
 *   the serving version), `rollback` that it failed (mirroring stops). Neither changes live traffic.
 */

export const STRATEGIES = ["canary", "blue-green", "shadow"] as const;
export type Strategy = (typeof STRATEGIES)[number];

/** One analysis' reading of a version; null where Prometheus returned nothing. */
export interface VersionSample {
    /** Requests per second (5m rate). */
    readonly requestRate: number | null;
    /** Share (0-1) of requests that failed (5m rate). */
    readonly errorRatio: number | null;
    /** p95 request latency in seconds (5m). */
    readonly latencyP95: number | null;
    /** Share (0-1) of predictions matching labelled feedback. */
    readonly accuracy: number | null;
}

export interface PromotionThresholds {
    /** Highest acceptable share of failed requests of the candidate. */
    readonly errorRatioMax: number;
    /** Highest acceptable p95 latency of the candidate, in seconds. */
    readonly latencyP95MaxSeconds: number;
    /** Highest acceptable ratio of the candidate's p95 to the baseline's (e.g. 1.25: at most 25 % slower). */
    readonly latencyRegressionMax: number;
    /** Lowest acceptable accuracy of the candidate. */
    readonly accuracyMin: number;
    /** How much lower than the baseline's the candidate's accuracy may be. */
    readonly accuracyTolerance: number;
    /** Fewest requests per second the candidate must have served for an analysis to count. */
    readonly minRequestRate: number;
    /** Whether a candidate without accuracy (no labelled feedback) counts as missing data. */
    readonly requireAccuracy: boolean;
    /** Consecutive analyses without data tolerated (held); one more rolls back. */
    readonly maxMissingAnalyses: number;
}

export interface PromotionState {
    readonly strategy: Strategy;
    /** Candidate weight (percent of live traffic) at each step; see stepsFor. */
    readonly steps: readonly number[];
    /** Index into steps of the step now in place. */
    readonly step: number;
    /** Consecutive analyses so far without data. */
    readonly missing: number;
}

export interface Weights {
    readonly candidate: number;
    readonly baseline: number;
}

export type Action = "advance" | "promote" | "hold" | "rollback";

export interface Decision {
    readonly action: Action;
    /** Traffic split to put in place now (candidate + baseline = 100). */
    readonly weights: Weights;
    /** The state the next analysis starts from (for advance and hold; terminal actions return it unchanged but for missing). */
    readonly next: PromotionState;
    /** Why, in words, for the step's log and the run's result. */
    readonly reason: string;
}

/** Steps of a strategy: canary weights as given (must rise and end at 100), [0, 100] for blue-green, n zeros for shadow. */
export function stepsFor(strategy: Strategy, canarySteps: readonly number[], shadowAnalyses: number): number[] {
    switch (strategy) {
        case "canary":
            return [...canarySteps];
        case "blue-green":
            return [0, 100];
        case "shadow":
            return Array.from({ length: shadowAnalyses }, () => 0);
    }
}

/** Problems with a state's steps, or none. Weights are whole percents; canary steps rise strictly to 100. */
export function stepProblems(strategy: Strategy, steps: readonly number[]): string[] {
    const problems: string[] = [];
    if (steps.length === 0) problems.push("needs at least one step");
    if (steps.some((w) => !Number.isInteger(w) || w < 0 || w > 100))
        problems.push("weights must be whole percents from 0 to 100");
    if (strategy === "canary") {
        if (steps.some((w, i) => i > 0 && w <= steps[i - 1])) problems.push("canary weights must rise strictly");
        if (steps.length > 0 && steps[steps.length - 1] !== 100) problems.push("the last canary weight must be 100");
        if (steps.length > 0 && steps[0] === 0) problems.push("the first canary weight must be above 0");
    }
    if (strategy === "shadow" && steps.some((w) => w !== 0))
        problems.push("a shadow never serves: every weight must be 0");
    if (strategy === "blue-green" && (steps.length !== 2 || steps[0] !== 0 || steps[1] !== 100))
        problems.push("blue-green steps are [0, 100]");
    return problems;
}

export const weightsAt = (candidate: number): Weights => ({ candidate, baseline: 100 - candidate });
const BASELINE_ONLY = weightsAt(0);

const present = (x: number | null | undefined): x is number => typeof x === "number" && Number.isFinite(x);

/** What is missing from the candidate's sample for an analysis to count (empty: enough data). */
export function missingData(candidate: VersionSample, t: PromotionThresholds): string[] {
    const out: string[] = [];
    if (!present(candidate.requestRate)) out.push("no request rate");
    else if (candidate.requestRate < t.minRequestRate)
        out.push(`request rate ${fmt(candidate.requestRate)}/s under ${fmt(t.minRequestRate)}/s`);
    if (!present(candidate.errorRatio)) out.push("no error ratio");
    if (!present(candidate.latencyP95)) out.push("no p95 latency");
    if (t.requireAccuracy && !present(candidate.accuracy)) out.push("no accuracy (no labelled feedback)");
    return out;
}

/** Thresholds the candidate breaks (empty: healthy). Values the candidate lacks are not judged here. */
export function violations(candidate: VersionSample, baseline: VersionSample, t: PromotionThresholds): string[] {
    const out: string[] = [];
    const c = candidate;
    const b = baseline;
    if (present(c.errorRatio) && c.errorRatio > t.errorRatioMax) {
        out.push(`error ratio ${fmt(c.errorRatio)} over ${fmt(t.errorRatioMax)}`);
    }
    if (present(c.latencyP95)) {
        if (c.latencyP95 > t.latencyP95MaxSeconds)
            out.push(`p95 latency ${fmt(c.latencyP95)}s over ${fmt(t.latencyP95MaxSeconds)}s`);
        if (present(b.latencyP95) && b.latencyP95 > 0 && c.latencyP95 > b.latencyP95 * t.latencyRegressionMax) {
            out.push(
                `p95 latency ${fmt(c.latencyP95)}s over ${fmt(t.latencyRegressionMax)} x baseline ${fmt(b.latencyP95)}s`,
            );
        }
    }
    if (present(c.accuracy)) {
        if (c.accuracy < t.accuracyMin) out.push(`accuracy ${fmt(c.accuracy)} under ${fmt(t.accuracyMin)}`);
        if (present(b.accuracy) && c.accuracy < b.accuracy - t.accuracyTolerance) {
            out.push(`accuracy ${fmt(c.accuracy)} under baseline ${fmt(b.accuracy)} - ${fmt(t.accuracyTolerance)}`);
        }
    }
    return out;
}

/**
 * The next move of a rollout after one analysis. Pure: same inputs, same decision.
 * @param state where the rollout stands (the weights of state.step are in place and were analysed)
 * @param candidate the new version's sample; baseline the version it replaces (or, for shadow, mirrors)
 */
export function decide(
    state: PromotionState,
    candidate: VersionSample,
    baseline: VersionSample,
    t: PromotionThresholds,
): Decision {
    const problems = stepProblems(state.strategy, state.steps);
    if (problems.length > 0)
        throw new Error(`invalid ${state.strategy} steps [${state.steps.join(", ")}]: ${problems.join("; ")}`);
    if (!Number.isInteger(state.step) || state.step < 0 || state.step >= state.steps.length) {
        throw new Error(`step ${state.step} is outside the ${state.steps.length} steps`);
    }
    const current = weightsAt(state.steps[state.step]);
    const where = `${state.strategy} step ${state.step + 1}/${state.steps.length} (candidate ${current.candidate}%)`;

    const missing = missingData(candidate, t);
    if (missing.length > 0) {
        const count = state.missing + 1;
        const next = { ...state, missing: count };
        if (count > t.maxMissingAnalyses) {
            return {
                action: "rollback",
                weights: BASELINE_ONLY,
                next,
                reason: `${where}: ${count} analyses in a row without data (${missing.join(", ")}); limit ${t.maxMissingAnalyses}`,
            };
        }
        return {
            action: "hold",
            weights: current,
            next,
            reason: `${where}: holding, ${missing.join(", ")} (${count} of ${t.maxMissingAnalyses} tolerated)`,
        };
    }

    const broken = violations(candidate, baseline, t);
    const settled = { ...state, missing: 0 };
    if (broken.length > 0) {
        return { action: "rollback", weights: BASELINE_ONLY, next: settled, reason: `${where}: ${broken.join("; ")}` };
    }
    if (state.step === state.steps.length - 1) {
        const verdict =
            state.strategy === "shadow"
                ? "shadow comparison passed; it serves no traffic"
                : "candidate serves all traffic";
        return { action: "promote", weights: current, next: settled, reason: `${where}: analysis passed, ${verdict}` };
    }
    const nextStep = state.step + 1;
    return {
        action: "advance",
        weights: weightsAt(state.steps[nextStep]),
        next: { ...settled, step: nextStep },
        reason: `${where}: analysis passed, candidate to ${state.steps[nextStep]}%`,
    };
}

function fmt(x: number): string {
    return String(Number(x.toPrecision(3)));
}
