import * as assert from "node:assert/strict";
import * as FakeTimers from "@sinonjs/fake-timers";
import type { Json } from "../../contract/json";
import { SCALABILITY_TASK } from "../../contract/study-tasks";
import { deliverSeveralModels, scalabilityParams, withParams } from "./scalability";
import type { Repo, RunRecord, Scenario } from "./scenario";

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
        const bare = { spec: { pipelineRef: { name: "simplified" } } } as Record<string, Json>;
        assert.deepEqual(withParams(bare, { concurrency: "4" }).spec, {
            pipelineRef: { name: "simplified" },
            params: [{ name: "concurrency", value: "4" }],
        });
    });
});

describe("study: the scalability levels", function () {
    // A mutant that leaves a request or a child unanswered fails here rather than at the suite's minute.
    this.timeout(5000);
    /** What the fake scenarios were asked to do, in order. */
    let calls: string[];
    let commits: { files: Readonly<Record<string, string>>; message: string }[];
    let logged: string[];
    const repo = {
        commitFiles(files: Readonly<Record<string, string>>, message: string) {
            commits.push({ files, message });
            // A commit and push take a person's time: 20 ms here.
            for (const until = Date.now() + 20; Date.now() < until;);
            return { sha: "c0ffee", time: "2026-12-03T10:00:00Z", files: Object.keys(files) };
        },
    } as unknown as Repo;
    const deps = () => ({ repo, log: (line: string) => logged.push(line) });
    const record = (name: string, status: string) => ({ name, outcome: { status, tasks: [] } }) as unknown as RunRecord;
    const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
    /** A scenario whose runs end with `status` after `ms` (or throw `failure`). */
    const scenario = (model: string, status = "Succeeded", ms = 0, failure?: string) =>
        ({
            model,
            async postGitPush(c: { sha: string }) {
                calls.push(`${model} postGitPush ${c.sha}`);
            },
            async takeFired(what: string, trigger: string) {
                calls.push(`${model} takeFired ${what} ${trigger}`);
                return [{ spec: { params: [{ name: "model", value: model }] } }, trigger];
            },
            async runPipeline(pr: { spec: { params: { name: string; value: string }[] } }, trigger: string) {
                const params = pr.spec.params.map((p) => `${p.name}=${p.value}`).join(",");
                calls.push(`${model} runPipeline ${trigger} ${params}`);
                await wait(ms);
                if (failure) throw new Error(failure);
                return record(`${model}-run`, status);
            },
            async simplifiedDelivery(task: string, concurrency: number) {
                calls.push(`${model} simplifiedDelivery ${task} ${concurrency}`);
                await wait(ms);
                if (failure) throw new Error(failure);
                return record(`${model}-simplified`, status);
            },
            async manualDelivery(task: string, datasetKey: string | undefined, splitWeight: number, n: number) {
                calls.push(`${model} manualDelivery ${task} ${datasetKey} ${splitWeight} ${n}`);
                await wait(ms);
                if (failure) throw new Error(failure);
            },
        }) as unknown as Scenario;
    beforeEach(() => {
        calls = [];
        commits = [];
        logged = [];
    });

    it("automated: one commit tuning the level's models, one push, each model's run with the shared push", async () => {
        const models = [scenario("iris"), scenario("iris-b"), scenario("iris-c")];
        const started = Date.now();
        const results = await deliverSeveralModels(models, [2], ["automated"], deps());
        assert.deepEqual(commits, [
            {
                files: {
                    "models/iris/params.txt": "n_estimators=120\n",
                    "models/iris-b/params.txt": "n_estimators=121\n",
                },
                message: "Tune 2 models",
            },
        ]);
        const pipelineCalls = calls.filter((c) => c.includes("runPipeline"));
        assert.deepEqual(
            calls.filter((c) => !c.includes("runPipeline")),
            [
                "iris postGitPush c0ffee",
                "iris takeFired git push iris-git-push",
                "iris-b takeFired git push iris-b-git-push",
            ],
        );
        assert.equal(pipelineCalls.length, 2);
        assert.match(
            pipelineCalls[0],
            new RegExp(
                `^iris runPipeline iris-git-push model=iris,study-task=${SCALABILITY_TASK},concurrency=2,` +
                    "human-actions=0\\.500,hands-on-seconds=(0\\.\\d{3})$",
            ),
        );
        // Each run's share of the push's 20 ms or more, in seconds.
        const share = Number(/hands-on-seconds=(.*)$/.exec(pipelineCalls[0])![1]);
        assert.ok(share >= 0.01 && share <= (Date.now() - started) / 2000, `${share} s`);
        assert.match(pipelineCalls[1], /^iris-b runPipeline iris-b-git-push model=iris-b,.*concurrency=2,/);
        assert.deepEqual(
            results.get("automated/2")?.map(({ model, ok, detail }) => ({ model, ok, detail })),
            [
                { model: "iris", ok: true, detail: "iris-run Succeeded" },
                { model: "iris-b", ok: true, detail: "iris-b-run Succeeded" },
            ],
        );
        assert.deepEqual(logged, [
            "scalability automated, 2 at once: 2 of 2 delivered in 0 s — iris ok 0 s, iris-b ok 0 s",
        ]);
    });

    it("automated: one model's commit says model, not models", async () => {
        await deliverSeveralModels([scenario("iris")], [1], ["automated"], deps());
        assert.deepEqual(commits, [
            { files: { "models/iris/params.txt": "n_estimators=110\n" }, message: "Tune 1 model" },
        ]);
    });

    it("simplified and manual: each model of the level at once, told the level; a run is ok when it succeeded", async () => {
        const models = [scenario("iris", "Completed"), scenario("iris-b", "Failed"), scenario("iris-c")];
        const results = await deliverSeveralModels(models, [1, 2], ["simplified", "manual"], deps());
        assert.deepEqual([...results.keys()], ["simplified/1", "simplified/2", "manual/1", "manual/2"]);
        assert.deepEqual(calls, [
            `iris simplifiedDelivery ${SCALABILITY_TASK} 1`,
            `iris simplifiedDelivery ${SCALABILITY_TASK} 2`,
            `iris-b simplifiedDelivery ${SCALABILITY_TASK} 2`,
            `iris manualDelivery ${SCALABILITY_TASK} undefined 100 1`,
            `iris manualDelivery ${SCALABILITY_TASK} undefined 100 2`,
            `iris-b manualDelivery ${SCALABILITY_TASK} undefined 100 2`,
        ]);
        assert.deepEqual(
            results.get("simplified/2")?.map(({ model, ok, detail }) => ({ model, ok, detail })),
            [
                { model: "iris", ok: true, detail: "iris-simplified Completed" },
                { model: "iris-b", ok: false, detail: "iris-b-simplified Failed" },
            ],
        );
        assert.deepEqual(
            results.get("manual/2")?.map(({ model, ok, detail }) => ({ model, ok, detail })),
            [
                { model: "iris", ok: true, detail: "recorded" },
                { model: "iris-b", ok: true, detail: "recorded" },
            ],
        );
        assert.equal(
            logged[1],
            "scalability simplified, 2 at once: 1 of 2 delivered in 0 s — iris ok 0 s, iris-b failed 0 s",
        );
    });

    it("times each delivery, and a delivery that threw is failed with its error", async () => {
        const models = [scenario("iris", "Succeeded", 250), scenario("iris-b", "Succeeded", 50, "no image built yet")];
        // Timers may fire a millisecond early: each delivery took at least 10 ms less than it waited.
        const before = Date.now();
        const [level] = (await deliverSeveralModels(models, [2], ["simplified"], deps())).values();
        const elapsed = (Date.now() - before) / 1000;
        assert.ok(level[0].ok && level[0].seconds >= 0.24 && level[0].seconds <= elapsed, `${level[0].seconds} s`);
        assert.deepEqual({ ok: level[1].ok, detail: level[1].detail }, { ok: false, detail: "no image built yet" });
        assert.ok(level[1].seconds >= 0.04 && level[1].seconds <= elapsed, `${level[1].seconds} s`);
    });

    it("leaves no timer behind once a level is done (it would hold the study's process open)", async () => {
        const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
        await new Promise((r) => setImmediate(r));
        const before = timers();
        await deliverSeveralModels([scenario("iris")], [1], ["manual"], deps());
        assert.equal(timers(), before, JSON.stringify(process.getActiveResourcesInfo()));
    });

    it("refuses a level with more models than the stack has", async () => {
        await assert.rejects(
            deliverSeveralModels([scenario("iris")], [2], ["manual"], deps()),
            /^Error: scalability level 2 needs 2 models; the stack has 1$/,
        );
        assert.deepEqual(calls, []);
    });

    it("gives a level up after eight minutes", async () => {
        const clock = FakeTimers.install({ toFake: ["setTimeout", "clearTimeout"] });
        try {
            const never = {
                model: "iris",
                manualDelivery: () => new Promise(() => undefined),
            } as unknown as Scenario;
            let settled = false;
            const run = deliverSeveralModels([never], [1], ["manual"], deps()).finally(() => (settled = true));
            clock.tick(8 * 60_000 - 1);
            await new Promise((r) => setImmediate(r));
            assert.equal(settled, false);
            clock.tick(1);
            await assert.rejects(run, /^Error: scalability manual x1: not done within 8 min$/);
        } finally {
            clock.uninstall();
        }
    });
});
