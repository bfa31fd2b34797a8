import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ALERTS, PROMOTION, loadShippedStep, taskEnv } from "../../test/promotion-harness";
import { checkExpression, metricCatalog } from "../../test/promql";
import type { VersionSample } from "./decide";
import { sampleQueries } from "./queries";
import type * as Step from "./step";
import { PROMOTION_SCRIPTS_DIR, promoteTask, promotionScripts } from "./task";

type Series = Record<string, readonly (Partial<VersionSample> | null)[]>;

/** A fake world: per namespace, one sample per analysis (null: nothing in Prometheus). Records what the step did. */
function fakeIo(step: typeof Step, series: Series) {
    const queries = sampleQueries();
    const calls = { weights: [] as Record<string, number>[], rollbacks: [] as number[], log: [] as string[] };
    let analysis = -1;
    const io: Step.StepIo = {
        async query(promql) {
            for (const [ns, samples] of Object.entries(series)) {
                for (const [field, template] of Object.entries(queries)) {
                    if (step.forNamespace(template, ns) === promql)
                        return samples[Math.min(analysis, samples.length - 1)]?.[field as keyof VersionSample] ?? null;
                }
            }
            throw new Error(`unexpected query ${promql}`);
        },
        async setWeights(w) {
            calls.weights.push({ ...w });
        },
        async pushRollback(ts) {
            calls.rollbacks.push(ts);
        },
        async sleep() {
            analysis++;
        },
        log: (line) => calls.log.push(line),
        now: () => 1_700_000_000_000,
    };
    return { io, calls };
}

const good: Partial<VersionSample> = { requestRate: 3, errorRatio: 0, latencyP95: 0.05, accuracy: 0.97 };
const base: Partial<VersionSample> = { requestRate: 30, errorRatio: 0.001, latencyP95: 0.06, accuracy: 0.96 };

describe("promotion step (as shipped in the promote Task)", () => {
    let dir: string;
    let step: typeof Step;
    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlops-promotion-"));
        step = loadShippedStep(dir);
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("ships only Node built-ins and the decision module", () => {
        const requires = Object.values(promotionScripts()).flatMap((js) =>
            [...js.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]),
        );
        // node:http only for a loopback test API (KUBECONFIG with an http:// server); in a cluster always https.
        assert.deepEqual([...new Set(requires)].sort(), ["./decide", "node:fs", "node:http", "node:https"]);
    });

    it("reads its configuration from the Task's environment", () => {
        const cfg = step.configFromEnv(
            taskEnv({ model: "iris", "candidate-version": "v2", "baseline-version": "v1", strategy: "canary" }),
        );
        assert.deepEqual(cfg.candidate, { version: "v2", namespace: "iris-v2" });
        assert.deepEqual(cfg.baseline, { version: "v1", namespace: "iris-v1" });
        assert.deepEqual(cfg.steps, [10, 25, 50, 100]);
        assert.equal(cfg.mode, "automated");
        assert.equal(cfg.thresholds.errorRatioMax, ALERTS.errorRatioMax);
        assert.equal(cfg.thresholds.latencyP95MaxSeconds, ALERTS.latencyP95Seconds);
        assert.equal(cfg.rollbackMetric, "mlops_last_rollback_timestamp_seconds");
        assert.deepEqual(
            step.configFromEnv(
                taskEnv({ model: "iris", "candidate-version": "v2", "baseline-version": "v1", strategy: "blue-green" }),
            ).steps,
            [0, 100],
        );
        assert.throws(
            () =>
                step.configFromEnv(
                    taskEnv({ model: "iris", "candidate-version": "v2", "baseline-version": "v1", strategy: "single" }),
                ),
            /STRATEGY single has no progressive promotion/,
        );
    });

    it("steps a canary's route weights 10 → 25 → 50 → 100 and promotes", async () => {
        const cfg = step.configFromEnv(
            taskEnv({ model: "iris", "candidate-version": "v2", "baseline-version": "v1", strategy: "canary" }),
        );
        const { io, calls } = fakeIo(step, { "iris-v2": [good], "iris-v1": [base] });
        const d = await step.runPromotion(cfg, io);
        assert.equal(d.action, "promote");
        assert.deepEqual(
            calls.weights.map((w) => [w["iris-v2"], w["iris-v1"]]),
            [
                [10, 90],
                [25, 75],
                [50, 50],
                [100, 0],
            ],
        );
        assert.deepEqual(calls.rollbacks, []);
    });

    it("rolls back when the candidate's errors rise at 25 %, and pushes the rollback time", async () => {
        const cfg = step.configFromEnv(
            taskEnv({ model: "iris", "candidate-version": "v2", "baseline-version": "v1", strategy: "canary" }),
        );
        const { io, calls } = fakeIo(step, { "iris-v2": [good, { ...good, errorRatio: 0.3 }], "iris-v1": [base] });
        const d = await step.runPromotion(cfg, io);
        assert.equal(d.action, "rollback");
        assert.deepEqual(
            calls.weights.map((w) => [w["iris-v2"], w["iris-v1"]]),
            [
                [10, 90],
                [25, 75],
                [0, 100],
            ],
        );
        assert.deepEqual(calls.rollbacks, [1_700_000_000]);
    });

    it("holds while Prometheus has nothing for the candidate and rolls back past the limit", async () => {
        const cfg = step.configFromEnv(
            taskEnv({ model: "iris", "candidate-version": "v2", "baseline-version": "v1", strategy: "blue-green" }),
        );
        const { io, calls } = fakeIo(step, { "iris-v2": [null], "iris-v1": [base] });
        const d = await step.runPromotion(cfg, io);
        assert.equal(d.action, "rollback");
        assert.equal(calls.log.filter((l) => l.startsWith("hold:")).length, PROMOTION.maxMissingAnalyses);
        assert.deepEqual(
            calls.weights.map((w) => w["iris-v2"]),
            [0, 0],
        );
    });

    it("never touches the route of a shadow", async () => {
        const cfg = step.configFromEnv(
            taskEnv({ model: "iris", "candidate-version": "v2", "baseline-version": "v1", strategy: "shadow" }),
        );
        const { io, calls } = fakeIo(step, { "iris-v2": [good], "iris-v1": [base] });
        assert.equal((await step.runPromotion(cfg, io)).action, "promote");
        assert.deepEqual(calls.weights, []);
    });

    it("reads one series per query, none as missing, and refuses failed queries", () => {
        assert.equal(
            step.queryValue({
                status: "success",
                data: { resultType: "vector", result: [{ metric: {}, value: [1, "0.25"] }] },
            }),
            0.25,
        );
        assert.equal(step.queryValue({ status: "success", data: { resultType: "vector", result: [] } }), null);
        assert.equal(
            step.queryValue({
                status: "success",
                data: { resultType: "vector", result: [{ metric: {}, value: [1, "NaN"] }] },
            }),
            null,
        );
        assert.throws(() => step.queryValue({ status: "error", error: "parse error" }), /Prometheus query failed/);
        assert.throws(
            () => step.queryValue({ status: "success", data: { result: [{ value: [1, "1"] }, { value: [1, "2"] }] } }),
            /2 series/,
        );
    });

    it("sets weights on the route's backends by namespace, 0 for other versions, and refuses a version the route lacks", () => {
        const rules = [
            {
                matches: [],
                backendRefs: [
                    { name: "model-server", namespace: "iris-v1", weight: 100 },
                    { name: "model-server", namespace: "iris-v2", weight: 0 },
                    { name: "model-server", namespace: "iris-v3", weight: 0 },
                ],
            },
        ];
        const out = step.rulesWithWeights(rules, { "iris-v1": 75, "iris-v2": 25 });
        assert.deepEqual(
            out[0].backendRefs!.map((r) => [r.namespace, r.weight]),
            [
                ["iris-v1", 75],
                ["iris-v2", 25],
                ["iris-v3", 0],
            ],
        );
        assert.equal(rules[0].backendRefs[0].weight, 100, "the input is not changed");
        assert.throws(() => step.rulesWithWeights(rules, { "iris-v9": 10, "iris-v1": 90 }), /no backend in iris-v9/);
    });

    it("pushes the rollback metric of the contract, grouped like every batch step's metrics", () => {
        assert.equal(
            step.pushPath("iris", "v2", "automated"),
            "/metrics/job/promotion/model/iris/version/v2/mode/automated",
        );
        assert.equal(
            step.rollbackExposition("mlops_last_rollback_timestamp_seconds", "iris-v2", 17),
            '# TYPE mlops_last_rollback_timestamp_seconds gauge\nmlops_last_rollback_timestamp_seconds{namespace="iris-v2"} 17\n',
        );
    });

    it("queries only recording rules and contract metrics, and every query parses", () => {
        const catalog = metricCatalog();
        const problems = Object.entries(sampleQueries()).flatMap(([k, q]) =>
            checkExpression(step.forNamespace(q, "iris-v2"), catalog).map((p) => `${k}: ${p}`),
        );
        assert.deepEqual(problems, []);
    });

    it("runs the mounted script with the Task's step command", () => {
        const full = promoteTask(PROMOTION, ALERTS).spec.steps[0].command;
        // Under the usage wrapper, which runs the command after "--" and measures it.
        assert.deepEqual(full.slice(0, 6), ["sh", "/opt/pipeline-lib/step_usage.sh", "exec", "promote", "last", "--"]);
        const cmd = full.slice(6);
        assert.deepEqual(cmd.slice(0, 2), ["node", "-e"]);
        assert.ok(cmd[2].includes(`require("${PROMOTION_SCRIPTS_DIR}/step.js").main()`));
        for (const js of Object.values(promotionScripts()))
            assert.doesNotMatch(js, /\$\((params|results|context|workspaces)\./, "Tekton would substitute it");
    });
});
