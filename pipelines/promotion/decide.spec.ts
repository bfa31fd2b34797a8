import * as assert from "node:assert/strict";
import fc from "fast-check";
import {
    type Decision,
    type PromotionState,
    type PromotionThresholds,
    STRATEGIES,
    type Strategy,
    type VersionSample,
    decide,
    missingData,
    stepProblems,
    stepsFor,
    violations,
} from "./decide";

const T: PromotionThresholds = {
    errorRatioMax: 0.05,
    latencyP95MaxSeconds: 0.5,
    latencyRegressionMax: 1.25,
    accuracyMin: 0.9,
    accuracyTolerance: 0.02,
    minRequestRate: 0.1,
    requireAccuracy: false,
    maxMissingAnalyses: 3,
};

const healthy: VersionSample = { requestRate: 5, errorRatio: 0.001, latencyP95: 0.08, accuracy: 0.96 };
const baseline: VersionSample = { requestRate: 20, errorRatio: 0.002, latencyP95: 0.1, accuracy: 0.95 };
const empty: VersionSample = { requestRate: null, errorRatio: null, latencyP95: null, accuracy: null };
const CANARY = [10, 25, 50, 100];

const start = (strategy: Strategy, steps = stepsFor(strategy, CANARY, 3)): PromotionState => ({
    strategy,
    steps,
    step: 0,
    missing: 0,
});

/** Runs a rollout over a series of candidate samples until a terminal decision (or the series ends). */
function run(
    state: PromotionState,
    series: readonly VersionSample[],
    base: VersionSample = baseline,
    t = T,
): Decision[] {
    const out: Decision[] = [];
    let s = state;
    for (const sample of series) {
        const d = decide(s, sample, base, t);
        out.push(d);
        if (d.action === "promote" || d.action === "rollback") break;
        s = d.next;
    }
    return out;
}

describe("promotion decision", () => {
    describe("canary over metric series", () => {
        it("steps 10 → 25 → 50 → 100 and promotes when every analysis passes", () => {
            const ds = run(start("canary"), Array(10).fill(healthy));
            assert.deepEqual(
                ds.map((d) => d.action),
                ["advance", "advance", "advance", "promote"],
            );
            assert.deepEqual(
                ds.map((d) => d.weights.candidate),
                [25, 50, 100, 100],
            );
            assert.ok(ds.every((d) => d.weights.candidate + d.weights.baseline === 100));
        });

        it("rolls back at the step where the error ratio breaks, with the reason", () => {
            const bad = { ...healthy, errorRatio: 0.2 };
            const ds = run(start("canary"), [healthy, bad, healthy]);
            assert.deepEqual(
                ds.map((d) => d.action),
                ["advance", "rollback"],
            );
            assert.deepEqual(ds[1].weights, { candidate: 0, baseline: 100 });
            assert.match(ds[1].reason, /canary step 2\/4 \(candidate 25%\): error ratio 0\.2 over 0\.05/);
        });

        it("rolls back on p95 over the absolute objective and on a regression against the baseline", () => {
            const slow = decide(start("canary"), { ...healthy, latencyP95: 0.7 }, baseline, T);
            assert.equal(slow.action, "rollback");
            assert.match(slow.reason, /p95 latency 0\.7s over 0\.5s/);
            const regressed = decide(start("canary"), { ...healthy, latencyP95: 0.2 }, baseline, T);
            assert.equal(regressed.action, "rollback");
            assert.match(regressed.reason, /over 1\.25 x baseline 0\.1s/);
            const within = decide(start("canary"), { ...healthy, latencyP95: 0.125 }, baseline, T);
            assert.equal(within.action, "advance");
        });

        it("rolls back on accuracy under the minimum or under the baseline beyond the tolerance", () => {
            const low = decide(start("canary"), { ...healthy, accuracy: 0.85 }, baseline, T);
            assert.equal(low.action, "rollback");
            assert.match(low.reason, /accuracy 0\.85 under 0\.9/);
            const worse = decide(start("canary"), { ...healthy, accuracy: 0.92 }, baseline, T);
            assert.equal(worse.action, "rollback");
            assert.match(worse.reason, /under baseline 0\.95 - 0\.02/);
            assert.equal(decide(start("canary"), { ...healthy, accuracy: 0.93 }, baseline, T).action, "advance");
        });

        it("judges only absolute thresholds when the baseline has no data (a first version)", () => {
            const d = decide(start("canary"), { ...healthy, latencyP95: 0.4, accuracy: 0.91 }, empty, T);
            assert.equal(d.action, "advance");
        });
    });

    describe("missing data", () => {
        it("holds (weights unchanged) while data is missing, then rolls back past the limit", () => {
            const s = { ...start("canary"), step: 1 };
            const ds = run(s, [empty, empty, empty, empty, healthy]);
            assert.deepEqual(
                ds.map((d) => d.action),
                ["hold", "hold", "hold", "rollback"],
            );
            assert.deepEqual(
                ds.slice(0, 3).map((d) => d.weights.candidate),
                [25, 25, 25],
            );
            assert.match(
                ds[3].reason,
                /4 analyses in a row without data \(no request rate, no error ratio, no p95 latency\); limit 3/,
            );
        });

        it("resets the count once an analysis has data", () => {
            const ds = run(start("canary"), [empty, empty, healthy, empty, empty, healthy, healthy, healthy]);
            assert.deepEqual(
                ds.map((d) => d.action),
                ["hold", "hold", "advance", "hold", "hold", "advance", "advance", "promote"],
            );
        });

        it("counts too little traffic and NaN as missing", () => {
            const quiet = decide(start("canary"), { ...healthy, requestRate: 0.01 }, baseline, T);
            assert.equal(quiet.action, "hold");
            assert.match(quiet.reason, /request rate 0\.01\/s under 0\.1\/s/);
            assert.equal(decide(start("canary"), { ...healthy, latencyP95: Number.NaN }, baseline, T).action, "hold");
        });

        it("skips accuracy when there is no feedback, unless it is required", () => {
            const noFeedback = { ...healthy, accuracy: null };
            assert.equal(decide(start("canary"), noFeedback, baseline, T).action, "advance");
            const d = decide(start("canary"), noFeedback, baseline, { ...T, requireAccuracy: true });
            assert.equal(d.action, "hold");
            assert.match(d.reason, /no accuracy/);
        });
    });

    describe("blue-green", () => {
        it("analyses at 0 %, switches all traffic at once, confirms, and promotes", () => {
            const ds = run(start("blue-green"), [healthy, healthy, healthy]);
            assert.deepEqual(
                ds.map((d) => [d.action, d.weights.candidate]),
                [
                    ["advance", 100],
                    ["promote", 100],
                ],
            );
        });

        it("rolls back instantly to the warm baseline when the analysis after the switch fails", () => {
            const ds = run(start("blue-green"), [healthy, { ...healthy, errorRatio: 0.5 }]);
            assert.deepEqual(
                ds.map((d) => [d.action, d.weights.candidate, d.weights.baseline]),
                [
                    ["advance", 100, 0],
                    ["rollback", 0, 100],
                ],
            );
        });
    });

    describe("shadow", () => {
        it("never gives the candidate live traffic and promotes after its analyses pass", () => {
            const ds = run(start("shadow"), [healthy, healthy, healthy, healthy]);
            assert.deepEqual(
                ds.map((d) => d.action),
                ["advance", "advance", "promote"],
            );
            assert.ok(ds.every((d) => d.weights.candidate === 0));
            assert.match(ds[2].reason, /serves no traffic/);
        });

        it("fails the comparison when the shadow is slower than the serving version", () => {
            const d = decide(start("shadow"), { ...healthy, latencyP95: 0.3 }, baseline, T);
            assert.equal(d.action, "rollback");
            assert.equal(d.weights.candidate, 0);
        });
    });

    describe("steps", () => {
        it("stepProblems names exactly the problems of each strategy's steps: none, not whole 0..100, not rising", () => {
            const WHOLE = "weights must be whole percents from 0 to 100";
            const cases: [Strategy, number[], string[]][] = [
                ["canary", [], ["needs at least one step"]],
                ["shadow", [], ["needs at least one step"]],
                ["blue-green", [], ["needs at least one step", "blue-green steps are [0, 100]"]],
                ["canary", [100], []],
                ["canary", [-1, 100], [WHOLE]],
                ["canary", [12.5, 100], [WHOLE]],
                ["canary", [Number.NaN, 100], [WHOLE]],
                ["canary", [50, 101], [WHOLE, "the last canary weight must be 100"]],
                ["canary", [10, 10, 100], ["canary weights must rise strictly"]],
                ["canary", [0, 100], ["the first canary weight must be above 0"]],
                ["shadow", [0, 0], []],
                ["shadow", [0, 10], ["a shadow never serves: every weight must be 0"]],
                ["blue-green", [0, 100], []],
                ["blue-green", [100, 100], ["blue-green steps are [0, 100]"]],
                ["blue-green", [0, 99], ["blue-green steps are [0, 100]"]],
                ["blue-green", [0, 100, 100], ["blue-green steps are [0, 100]"]],
            ];
            for (const [strategy, steps, expected] of cases)
                assert.deepEqual(stepProblems(strategy, steps), expected, `${strategy} ${JSON.stringify(steps)}`);
        });

        it("rejects invalid canary steps", () => {
            assert.deepEqual(stepProblems("canary", [10, 25, 50, 100]), []);
            assert.match(stepProblems("canary", [10, 50, 25, 100]).join(), /rise strictly/);
            assert.match(stepProblems("canary", [10, 50]).join(), /last canary weight must be 100/);
            assert.match(stepProblems("canary", [0, 100]).join(), /first canary weight must be above 0/);
            assert.match(stepProblems("shadow", [0, 10]).join(), /never serves/);
            assert.match(stepProblems("blue-green", [0, 50, 100]).join(), /\[0, 100\]/);
            assert.throws(
                () => decide(start("canary", [10, 50]), healthy, baseline, T),
                /invalid canary steps \[10, 50\]/,
            );
            assert.throws(() => decide({ ...start("canary"), step: 4 }, healthy, baseline, T), /outside the 4 steps/);
        });
    });

    // A threshold is a limit the candidate may reach: "max" and "min" include their value. The values below are exact
    // in binary (0.25 × 1.5 = 0.375, 0.75 − 0.25 = 0.5), so equality is equality and the next value is just past it.
    describe("thresholds at equality", () => {
        const limits: PromotionThresholds = {
            ...T,
            errorRatioMax: 0.125,
            latencyP95MaxSeconds: 0.5,
            latencyRegressionMax: 1.5,
            accuracyMin: 0.25,
            accuracyTolerance: 0.25,
            minRequestRate: 0.5,
        };
        const base: VersionSample = { requestRate: 20, errorRatio: 0, latencyP95: 0.25, accuracy: 0.75 };
        const ok: VersionSample = { requestRate: 5, errorRatio: 0, latencyP95: 0.25, accuracy: 0.75 };
        /** The next value past a limit, up or down (2^-20 is exact in binary, and far under the limits' precision). */
        const above = (x: number) => x + 2 ** -20;
        const below = (x: number) => x - 2 ** -20;

        it("a candidate exactly at every threshold passes and advances", () => {
            const edge: VersionSample = { requestRate: 0.5, errorRatio: 0.125, latencyP95: 0.375, accuracy: 0.5 };
            assert.deepEqual(missingData(edge, limits), []);
            assert.deepEqual(violations(edge, base, limits), []);
            // Against the absolute latency and accuracy limits too (no baseline to compare with).
            const absolute: VersionSample = { ...edge, latencyP95: 0.5, accuracy: 0.25 };
            assert.deepEqual(violations(absolute, empty, limits), []);
            assert.equal(decide(start("canary"), edge, base, limits).action, "advance");
        });

        it("just past each threshold is refused, naming that threshold alone", () => {
            const cases: [Partial<VersionSample>, VersionSample, string][] = [
                [{ errorRatio: above(0.125) }, base, "error ratio 0.125 over 0.125"],
                [{ latencyP95: above(0.5) }, empty, "p95 latency 0.5s over 0.5s"],
                [{ latencyP95: above(0.375) }, base, "p95 latency 0.375s over 1.5 x baseline 0.25s"],
                [{ accuracy: below(0.25) }, empty, "accuracy 0.25 under 0.25"],
                [{ accuracy: below(0.5) }, base, "accuracy 0.5 under baseline 0.75 - 0.25"],
            ];
            for (const [change, against, message] of cases) {
                const candidate = { ...ok, ...change };
                assert.deepEqual(violations(candidate, against, limits), [message], JSON.stringify(change));
                const d = decide(start("canary"), candidate, against, limits);
                assert.equal(d.action, "rollback");
                assert.equal(d.reason, `canary step 1/4 (candidate 10%): ${message}`);
            }
        });

        it("a request rate just under the minimum is missing data; at the minimum it counts", () => {
            assert.deepEqual(missingData({ ...ok, requestRate: 0.5 }, limits), []);
            assert.deepEqual(missingData({ ...ok, requestRate: below(0.5) }, limits), [
                "request rate 0.5/s under 0.5/s",
            ]);
            assert.equal(decide(start("canary"), { ...ok, requestRate: below(0.5) }, base, limits).action, "hold");
        });

        it("a baseline p95 of 0 is not compared with (no ratio of nothing), the absolute limit still is", () => {
            const still = { ...base, latencyP95: 0 };
            assert.deepEqual(violations({ ...ok, latencyP95: 0.5 }, still, limits), []);
            assert.deepEqual(violations({ ...ok, latencyP95: above(0.5) }, still, limits), [
                "p95 latency 0.5s over 0.5s",
            ]);
        });

        it("says why in words the step's log and the run's result carry, every reason joined", () => {
            const canary = start("canary");
            const reasons = (state: PromotionState, candidate: VersionSample) =>
                decide(state, candidate, base, limits).reason;
            assert.equal(
                reasons(canary, { ...ok, requestRate: null, latencyP95: null }),
                "canary step 1/4 (candidate 10%): holding, no request rate, no p95 latency (1 of 3 tolerated)",
            );
            assert.equal(
                reasons(canary, { ...ok, errorRatio: 0.25, accuracy: 0.125 }),
                "canary step 1/4 (candidate 10%): error ratio 0.25 over 0.125; accuracy 0.125 under 0.25; " +
                    "accuracy 0.125 under baseline 0.75 - 0.25",
            );
            assert.equal(reasons(canary, ok), "canary step 1/4 (candidate 10%): analysis passed, candidate to 25%");
            assert.equal(
                reasons({ ...canary, step: 3 }, ok),
                "canary step 4/4 (candidate 100%): analysis passed, candidate serves all traffic",
            );
            assert.equal(
                reasons({ ...start("shadow"), step: 2 }, ok),
                "shadow step 3/3 (candidate 0%): analysis passed, shadow comparison passed; it serves no traffic",
            );
            assert.throws(() => decide(start("canary", [0, 50]), ok, base, limits), {
                message:
                    "invalid canary steps [0, 50]: the last canary weight must be 100; the first canary weight must be above 0",
            });
        });

        it("the step in place must be a whole index into the steps", () => {
            const canary = start("canary");
            for (const step of [-1, 0.5, 4, Number.NaN])
                assert.throws(
                    () => decide({ ...canary, step }, healthy, baseline, T),
                    { message: `step ${step} is outside the 4 steps` },
                    String(step),
                );
            assert.equal(decide({ ...canary, step: 3 }, healthy, baseline, T).action, "promote");
        });
    });

    describe("properties", () => {
        const value = (max: number) => fc.option(fc.double({ min: 0, max, noNaN: true }), { nil: null });
        const sample = fc.record({
            requestRate: value(50),
            errorRatio: value(1),
            latencyP95: value(3),
            accuracy: value(1),
        });
        const canarySteps = fc
            .uniqueArray(fc.integer({ min: 1, max: 99 }), { maxLength: 5 })
            .map((ws) => [...ws.sort((a, b) => a - b), 100]);
        const state = fc
            .tuple(fc.constantFrom(...STRATEGIES), canarySteps, fc.integer({ min: 1, max: 5 }), fc.nat(10), fc.nat(10))
            .map(([strategy, canary, shadows, step, missing]): PromotionState => {
                const steps = stepsFor(strategy, canary, shadows);
                return { strategy, steps, step: step % steps.length, missing };
            });
        const thresholds = fc.record({
            errorRatioMax: fc.double({ min: 0, max: 1, noNaN: true }),
            latencyP95MaxSeconds: fc.double({ min: 0.01, max: 3, noNaN: true }),
            latencyRegressionMax: fc.double({ min: 1, max: 3, noNaN: true }),
            accuracyMin: fc.double({ min: 0, max: 1, noNaN: true }),
            accuracyTolerance: fc.double({ min: 0, max: 0.2, noNaN: true }),
            minRequestRate: fc.double({ min: 0, max: 5, noNaN: true }),
            requireAccuracy: fc.boolean(),
            maxMissingAnalyses: fc.nat(6),
        });

        it("weights always split 100 between candidate and baseline; a shadow never gets any", () => {
            fc.assert(
                fc.property(state, sample, sample, thresholds, (s, c, b, t) => {
                    const d = decide(s, c, b, t);
                    assert.equal(d.weights.candidate + d.weights.baseline, 100);
                    if (s.strategy === "shadow") assert.equal(d.weights.candidate, 0);
                }),
            );
        });

        it("never moves forward on a candidate that breaks an absolute threshold or lacks data", () => {
            fc.assert(
                fc.property(state, sample, sample, thresholds, (s, c, b, t) => {
                    const d = decide(s, c, b, t);
                    const lacks =
                        c.requestRate === null ||
                        c.requestRate < t.minRequestRate ||
                        c.errorRatio === null ||
                        c.latencyP95 === null ||
                        (t.requireAccuracy && c.accuracy === null);
                    const breaks =
                        (c.errorRatio ?? 0) > t.errorRatioMax ||
                        (c.latencyP95 ?? 0) > t.latencyP95MaxSeconds ||
                        (c.accuracy !== null && c.accuracy < t.accuracyMin);
                    if (lacks || breaks)
                        assert.ok(d.action === "hold" || d.action === "rollback", `${d.action}: ${d.reason}`);
                    if (!lacks && breaks) assert.equal(d.action, "rollback");
                }),
            );
        });

        it("missing data holds exactly up to the limit and rolls back past it", () => {
            fc.assert(
                fc.property(state, thresholds, (s, t) => {
                    const d = decide(s, empty, baseline, t);
                    assert.equal(d.next.missing, s.missing + 1);
                    assert.equal(d.action, s.missing + 1 > t.maxMissingAnalyses ? "rollback" : "hold");
                    if (d.action === "hold") assert.deepEqual(d.weights.candidate, s.steps[s.step]);
                }),
            );
        });

        it("a rollback always returns all traffic to the baseline; an advance moves exactly one step on", () => {
            fc.assert(
                fc.property(state, sample, sample, thresholds, (s, c, b, t) => {
                    const d = decide(s, c, b, t);
                    if (d.action === "rollback") assert.deepEqual(d.weights, { candidate: 0, baseline: 100 });
                    if (d.action === "advance") {
                        assert.equal(d.next.step, s.step + 1);
                        assert.equal(d.weights.candidate, s.steps[s.step + 1]);
                        assert.ok(d.weights.candidate >= s.steps[s.step]);
                    }
                    if (d.action === "promote") assert.equal(s.step, s.steps.length - 1);
                }),
            );
        });

        it("a candidate that is no worse on every metric than one that passed also passes", () => {
            fc.assert(
                fc.property(
                    state,
                    sample,
                    sample,
                    thresholds,
                    fc.double({ min: 0, max: 1, noNaN: true }),
                    (s, c, b, t, k) => {
                        const d = decide(s, c, b, t);
                        if (d.action !== "advance" && d.action !== "promote") return;
                        const better: VersionSample = {
                            requestRate: c.requestRate === null ? null : c.requestRate * (1 + k),
                            errorRatio: c.errorRatio === null ? null : c.errorRatio * k,
                            latencyP95: c.latencyP95 === null ? null : c.latencyP95 * k,
                            accuracy: c.accuracy === null ? null : c.accuracy + (1 - c.accuracy) * k,
                        };
                        assert.equal(decide(s, better, b, t).action, d.action);
                    },
                ),
            );
        });

        it("with always-healthy analyses every strategy promotes after exactly its steps, visiting them in order", () => {
            fc.assert(
                fc.property(
                    fc.constantFrom(...STRATEGIES),
                    canarySteps,
                    fc.integer({ min: 1, max: 5 }),
                    (strategy, canary, shadows) => {
                        const steps = stepsFor(strategy, canary, shadows);
                        const ds = run(
                            { strategy, steps, step: 0, missing: 0 },
                            Array(steps.length + 2).fill(healthy),
                            baseline,
                            T,
                        );
                        assert.equal(ds.length, steps.length);
                        assert.equal(ds[ds.length - 1].action, "promote");
                        assert.deepEqual(
                            ds.map((d) => d.weights.candidate),
                            [...steps.slice(1), steps[steps.length - 1]],
                        );
                    },
                ),
            );
        });

        it("is pure: the same inputs give the same decision and the state is not changed", () => {
            fc.assert(
                fc.property(state, sample, sample, thresholds, (s, c, b, t) => {
                    const copy = structuredClone(s);
                    assert.deepEqual(decide(s, c, b, t), decide(s, c, b, t));
                    assert.deepEqual(s, copy);
                }),
            );
        });
    });
});
