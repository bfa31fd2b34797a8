import * as assert from "node:assert/strict";
import type { Json } from "../../contract/json";
import { SCALABILITY_TASK } from "../../contract/study-tasks";
import { scalabilityParams, withParams } from "./scalability";

describe("study: the scalability runs' params", () => {
    it("share one push among the runs it started: actions and hands-on time add up to the push's", () => {
        for (const n of [1, 2, 4]) {
            const p = scalabilityParams(n, 1.2);
            assert.equal(p["study-task"], SCALABILITY_TASK);
            assert.equal(p.concurrency, String(n));
            assert.ok(Math.abs(Number(p["human-actions"]) * n - 1) < 0.01, `${n}: ${p["human-actions"]}`);
            assert.ok(Math.abs(Number(p["hands-on-seconds"]) * n - 1.2) < 0.01, `${n}: ${p["hands-on-seconds"]}`);
        }
    });

    it("replaces the params of the same name and keeps the others, without changing the run it was given", () => {
        const run = {
            apiVersion: "tekton.dev/v1",
            kind: "PipelineRun",
            spec: {
                pipelineRef: { name: "train-and-deploy" },
                params: [
                    { name: "model", value: "iris-b" },
                    { name: "study-task", value: "deploy-new-version" },
                ],
            },
        } as Record<string, Json>;
        const out = withParams(run, { "study-task": SCALABILITY_TASK, concurrency: "2" });
        assert.deepEqual(out.spec.params, [
            { name: "model", value: "iris-b" },
            { name: "study-task", value: SCALABILITY_TASK },
            { name: "concurrency", value: "2" },
        ]);
        assert.equal(out.spec.pipelineRef.name, "train-and-deploy");
        assert.equal(run.spec.params[1].value, "deploy-new-version");
    });
});
