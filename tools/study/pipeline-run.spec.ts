import { strict as assert } from "node:assert";
import { PIPELINE_DEFINITIONS } from "../../pipelines/pipelines";
import {
    aggregateStatus,
    parentsOf,
    runPipeline,
    substitutePipelineVars,
    validatePipeline,
    type Executor,
    type PipelineSpecObject,
    type TaskRunRequest,
} from "./pipeline-run";

const ctx = { pipelineRunName: "run-1", namespace: "pipelines" };
const defaults = { accuracyThreshold: 0.9, accuracyTolerance: 0.02 };
const rendered = (name: string) => {
    const p = PIPELINE_DEFINITIONS.map((d) => d(defaults)).find((x) => x.metadata.name === name);
    if (!p) throw new Error(`no pipeline ${name}`);
    return p as unknown as PipelineSpecObject;
};

/** An executor that records each request and answers from a table (default: success, no results). */
function fake(table: Record<string, { ok?: boolean; results?: Record<string, string> }> = {}) {
    const calls: TaskRunRequest[] = [];
    const exec: Executor = async (req) => {
        calls.push(req);
        await new Promise((r) => setTimeout(r, 1));
        const t = table[req.pipelineTask] ?? {};
        return { succeeded: t.ok ?? true, results: t.results ?? {} };
    };
    return { calls, exec, call: (n: string) => calls.find((c) => c.pipelineTask === n) };
}

const states = (o: Awaited<ReturnType<typeof runPipeline>>) =>
    Object.fromEntries(o.tasks.map((t) => [t.name, t.reason ? `${t.state}: ${t.reason}` : t.state]));

describe("study: the Tekton pipeline runner", () => {
    it("runs a task after its runAfter parents and the tasks whose results it uses, passing results into params", async () => {
        const p: PipelineSpecObject = {
            metadata: { name: "p" },
            spec: {
                params: [{ name: "x" }],
                tasks: [
                    {
                        name: "c",
                        taskRef: { name: "t" },
                        params: [{ name: "v", value: "$(tasks.a.results.out)-$(params.x)" }],
                    },
                    { name: "a", taskRef: { name: "t" } },
                    { name: "b", taskRef: { name: "t" }, runAfter: ["a"] },
                ],
            },
        };
        assert.deepEqual(parentsOf(p.spec.tasks[0]), ["a"]);
        const f = fake({ a: { results: { out: "A1" } } });
        const o = await runPipeline(p, { x: "7" }, ctx, f.exec);
        assert.equal(o.status, "Succeeded");
        assert.equal(f.calls[0].pipelineTask, "a");
        assert.deepEqual(f.call("c")!.params, { v: "A1-7" });
    });

    it("refuses an unknown param, a missing one, an unknown parent and a cycle", async () => {
        const p = (tasks: PipelineSpecObject["spec"]["tasks"]): PipelineSpecObject => ({
            metadata: { name: "p" },
            spec: { params: [{ name: "x" }], tasks },
        });
        const one = p([{ name: "a", taskRef: { name: "t" } }]);
        await assert.rejects(runPipeline(one, { x: "1", y: "2" }, ctx, fake().exec), /declares no param y/);
        await assert.rejects(runPipeline(one, {}, ctx, fake().exec), /param x has no value/);
        assert.throws(
            () => validatePipeline(p([{ name: "a", taskRef: { name: "t" }, runAfter: ["zz"] }])),
            /unknown task zz/,
        );
        assert.throws(
            () =>
                validatePipeline(
                    p([
                        { name: "a", taskRef: { name: "t" }, runAfter: ["b"] },
                        { name: "b", taskRef: { name: "t" }, runAfter: ["a"] },
                    ]),
                ),
            /cycle/,
        );
    });

    it("a task skipped by `when` does not skip its ordering-only dependents, but skips those using its results", async () => {
        const p: PipelineSpecObject = {
            metadata: { name: "p" },
            spec: {
                tasks: [
                    { name: "gate", taskRef: { name: "t" }, when: [{ input: "a", operator: "in", values: ["b"] }] },
                    { name: "after", taskRef: { name: "t" }, runAfter: ["gate"] },
                    { name: "uses", taskRef: { name: "t" }, params: [{ name: "v", value: "$(tasks.gate.results.r)" }] },
                    { name: "grandchild", taskRef: { name: "t" }, runAfter: ["uses"] },
                ],
            },
        };
        const o = await runPipeline(p, {}, ctx, fake().exec);
        assert.deepEqual(states(o), {
            gate: "Skipped: When Expressions evaluated to false",
            after: "Succeeded",
            uses: "Skipped: Results were missing",
            grandchild: "Skipped: Parent Tasks were skipped",
        });
        assert.equal(o.status, "Completed");
    });

    it("once a DAG task fails no other starts (stopping), tasks already running finish, and finally still runs", async () => {
        const p: PipelineSpecObject = {
            metadata: { name: "p" },
            spec: {
                tasks: [
                    { name: "bad", taskRef: { name: "t" } },
                    { name: "slow", taskRef: { name: "t" } },
                    { name: "next", taskRef: { name: "t" }, runAfter: ["bad"] },
                    { name: "later", taskRef: { name: "t" }, runAfter: ["slow"] },
                ],
                finally: [
                    { name: "report", taskRef: { name: "r" }, params: [{ name: "s", value: "$(tasks.status)" }] },
                ],
            },
        };
        const exec: Executor = async (req) => {
            await new Promise((r) => setTimeout(r, req.pipelineTask === "slow" ? 20 : 1));
            return { succeeded: req.pipelineTask !== "bad", results: {} };
        };
        const calls: TaskRunRequest[] = [];
        const o = await runPipeline(p, {}, ctx, (r) => (calls.push(r), exec(r)));
        assert.deepEqual(states(o), {
            bad: "Failed",
            next: "Skipped: PipelineRun was stopping",
            slow: "Succeeded",
            later: "Skipped: PipelineRun was stopping",
            report: "Succeeded",
        });
        assert.equal(calls.find((c) => c.pipelineTask === "report")!.params.s, "Failed");
        assert.equal(o.status, "Failed");
    });

    it("a finally task referencing a result its task never wrote (skipped or failed) is skipped; one written before a failure resolves", async () => {
        const p: PipelineSpecObject = {
            metadata: { name: "p" },
            spec: {
                tasks: [
                    { name: "a", taskRef: { name: "t" } },
                    { name: "b", taskRef: { name: "t" }, runAfter: ["a"] },
                ],
                finally: [
                    {
                        name: "from-a",
                        taskRef: { name: "r" },
                        params: [{ name: "v", value: "$(tasks.a.results.half)" }],
                    },
                    { name: "from-b", taskRef: { name: "r" }, params: [{ name: "v", value: "$(tasks.b.results.x)" }] },
                    {
                        name: "statuses",
                        taskRef: { name: "r" },
                        params: [{ name: "v", value: "$(tasks.a.status)/$(tasks.b.status)/$(tasks.status)" }],
                    },
                ],
            },
        };
        const f = fake({ a: { ok: false, results: { half: "written" } } });
        const o = await runPipeline(p, {}, ctx, f.exec);
        assert.deepEqual(states(o), {
            a: "Failed",
            b: "Skipped: PipelineRun was stopping",
            "from-b": "Skipped: Results were missing",
            "from-a": "Succeeded",
            statuses: "Succeeded",
        });
        assert.equal(f.call("from-a")!.params.v, "written");
        assert.equal(f.call("statuses")!.params.v, "Failed/None/Failed");
    });

    it("a DAG task whose referenced result its succeeded task never wrote fails the run", async () => {
        const p: PipelineSpecObject = {
            metadata: { name: "p" },
            spec: {
                tasks: [
                    { name: "a", taskRef: { name: "t" } },
                    { name: "b", taskRef: { name: "t" }, params: [{ name: "v", value: "$(tasks.a.results.none)" }] },
                ],
            },
        };
        const f = fake();
        const o = await runPipeline(p, {}, ctx, f.exec);
        assert.equal(o.status, "Failed");
        assert.match(o.message ?? "", /tasks\.a\.results\.none/);
        assert.equal(f.call("b"), undefined);
    });

    it("substitutes params, context, results and refuses $(tasks.status) outside finally", () => {
        const vars = {
            params: { model: "iris" },
            context: { ...ctx, pipelineName: "deploy" },
            results: (t: string) => (t === "a" ? { r: "1" } : undefined),
        };
        assert.equal(
            substitutePipelineVars(
                '$(params.model) $(params["model"]) $(context.pipelineRun.name) $(tasks.a.results.r)',
                vars,
            ),
            "iris iris run-1 1",
        );
        assert.throws(() => substitutePipelineVars("$(tasks.status)", vars), /only for finally/);
        assert.throws(() => substitutePipelineVars("$(params.nope)", vars), /not a param/);
        assert.equal(aggregateStatus([]), "Succeeded");
    });

    describe("the rendered pipelines", () => {
        const tad = {
            "choose-versions": {
                results: { version: "v2", baseline: "v1", strategy: "canary", rollout: "progressive" },
            },
            "fetch-source": { results: { commit: "c0ffee", "started-at": "100" } },
            "validate-data": { results: { "dataset-version": "d1", "dataset-source": "s3://datasets/iris/" } },
            train: { results: { "train-accuracy": "0.97" } },
            evaluate: { results: { accuracy: "0.95" } },
            register: { results: { build: "b1" } },
            "build-image": { results: { image: "repo@sha256:" + "a".repeat(64) } },
        };

        it("train-and-deploy: a progressive rollout runs promote and skips route by `when`; both reports get the chosen version", async () => {
            const f = fake(tad);
            const o = await runPipeline(rendered("train-and-deploy"), { model: "iris", "git-url": "g" }, ctx, f.exec);
            assert.equal(states(o).route, "Skipped: When Expressions evaluated to false");
            assert.equal(states(o).promote, "Succeeded");
            assert.equal(o.status, "Completed");
            assert.equal(f.call("deploy")!.params.build, "b1");
            assert.equal(f.call("deploy")!.params.version, "v2");
            assert.equal(f.call("report")!.params.version, "v2");
            assert.equal(f.call("report")!.params.status, "Completed");
            assert.equal(f.call("report-training")!.params["eval-accuracy"], "0.95");
            // validate-data waits for choose-versions (its version) and fetch-source; build-image runs beside training.
            const order = f.calls.map((c) => c.pipelineTask);
            assert.ok(order.indexOf("validate-data") > order.indexOf("choose-versions"));
            assert.ok(order.indexOf("build-image") < order.indexOf("register"));
        });

        it("train-and-deploy: a failed evaluation skips the rest; report-training is skipped (no accuracy), report still runs with Failed", async () => {
            const f = fake({ ...tad, evaluate: { ok: false, results: {} } });
            const o = await runPipeline(rendered("train-and-deploy"), { model: "iris", "git-url": "g" }, ctx, f.exec);
            const s = states(o);
            assert.equal(s.register, "Skipped: PipelineRun was stopping");
            assert.equal(s.deploy, "Skipped: PipelineRun was stopping");
            assert.equal(s["report-training"], "Skipped: Results were missing");
            assert.equal(s.report, "Succeeded");
            assert.equal(f.call("report")!.params.status, "Failed");
            assert.equal(o.status, "Failed");
        });

        it("rollback has no workspace and runs smoke-test, route, then report with the from-version", async () => {
            const f = fake();
            const o = await runPipeline(
                rendered("rollback"),
                { model: "iris", version: "v1", "from-version": "v2" },
                ctx,
                f.exec,
            );
            assert.deepEqual(
                f.calls.map((c) => c.pipelineTask),
                ["smoke-test", "route", "report"],
            );
            assert.equal(f.call("report")!.params["from-version"], "v2");
            assert.equal(f.call("report")!.params["study-task"], "rollback-bad-version");
            assert.equal(o.status, "Succeeded");
        });
    });
});
