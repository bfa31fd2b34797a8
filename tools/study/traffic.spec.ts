/**
 * The study's traffic ledger (tools/study/traffic.ts): a phase where the model must serve stops the study on a failed
 * request, naming it; a phase that only counts failures does not; the study's line shows every phase.
 */
import * as assert from "node:assert/strict";
import { TrafficLedger } from "./traffic";

describe("the study's traffic ledger", () => {
    it("has no problem while every request of a must-serve phase is served", () => {
        const ledger = new TrafficLedger("iris");
        for (let i = 0; i < 3; i++) ledger.record("after the first version", "stop-the-study");
        assert.equal(ledger.problem(), undefined);
        assert.deepEqual(ledger.tallies, [
            { phase: "after the first version", failures: "stop-the-study", sent: 3, served: 3 },
        ]);
    });

    it("names the model, phase, count and first failure of a must-serve phase that failed", () => {
        const ledger = new TrafficLedger("iris-b");
        ledger.record("after the first version", "stop-the-study");
        ledger.record("after the first version", "stop-the-study", "POST /models/iris-b/predict: 404 no route");
        ledger.record("after the first version", "stop-the-study", "POST /models/iris-b/feedback: 404 no route");
        assert.equal(
            ledger.problem(),
            "traffic to iris-b after the first version: 2 of 3 requests failed, the first: POST /models/iris-b/predict: 404 no route",
        );
    });

    it("names every must-serve phase that failed, one after the other", () => {
        const ledger = new TrafficLedger("iris");
        ledger.record("after the first version", "stop-the-study", "POST /models/iris/predict: 404 no route");
        ledger.record("after the rollback", "stop-the-study");
        ledger.record("after the rollback", "stop-the-study", "POST /models/iris/predict: 502 bad gateway");
        assert.equal(
            ledger.problem(),
            "traffic to iris after the first version: 1 of 1 requests failed, the first: POST /models/iris/predict: 404 no route; " +
                "traffic to iris after the rollback: 1 of 2 requests failed, the first: POST /models/iris/predict: 502 bad gateway",
        );
    });

    it("only counts the failures of a phase that allows them, and shows them in the study's line", () => {
        const ledger = new TrafficLedger("iris");
        ledger.record("after the first version", "stop-the-study");
        ledger.record("during canary analyses", "count", "POST /models/iris/predict: 503 upstream restarting");
        ledger.record("during canary analyses", "count");
        assert.equal(ledger.problem(), undefined);
        assert.equal(
            ledger.describe(),
            "traffic to iris: after the first version 1 of 1 served; during canary analyses 1 of 2 served " +
                "(the first failure: POST /models/iris/predict: 503 upstream restarting)",
        );
    });

    it("says when no traffic went to a model", () => {
        assert.equal(new TrafficLedger("iris-c").describe(), "traffic to iris-c: none");
    });

    it("refuses a phase named again with the other failure policy", () => {
        const ledger = new TrafficLedger("iris");
        ledger.record("steady", "count");
        assert.throws(() => ledger.record("steady", "stop-the-study"), /phase "steady" began with failures "count"/);
    });
});
