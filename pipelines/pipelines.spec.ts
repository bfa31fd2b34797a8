import * as assert from "node:assert/strict";
import { PIPELINE_SERVICE_ACCOUNTS } from "../contract/names";
import { METRICS } from "../contract/metric-contract";
import { IMAGES } from "../contract/versions";
import { GPU_CAPABLE_LABEL, metricEnv, metricEnvName, ROLE_LABEL } from "./core/context";
import { allTasks, PIPELINE_NAMES, renderPipelines, renderTasks } from "./index";
import { runtimeImage } from "./core/runtime";
import { alertThresholdsSchema } from "../contract/config/monitoring";
import { promotionSchema } from "../contract/config/pipelines";
import { lint, runProblems } from "../test/tekton-wiring";
import { pipelineRun, RunError } from "./core/runs";
import type { Pipeline, PipelineTask, Task } from "./core/tekton";

const DEFAULTS = { accuracyThreshold: 0.9, accuracyTolerance: 0.02 };
const GPU = {
    nodeSelector: { "nvidia.com/gpu.present": "true" },
    tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
    resourceName: "nvidia.com/gpu" as const,
};
const PROMOTION_SETTINGS = {
    promotion: promotionSchema.parse({}),
    alerts: alertThresholdsSchema.parse({}),
};
/** The step runtime in an example registry, as the install renders it (pipelines/install/step-runtime.ts). */
const RUNTIME_IMAGE = runtimeImage("registry.example/model-server");
/** Tasks rendered by the pipelines module (script steps) as installed; `all` adds the promote Task. */
const tasks = renderTasks({}, {}, RUNTIME_IMAGE);
const all = allTasks(PROMOTION_SETTINGS, {}, RUNTIME_IMAGE);
const pipelines = renderPipelines(DEFAULTS);
const taskByName = new Map(all.map((t) => [t.metadata.name, t]));
const RUN_PARAMS: Record<string, Record<string, string>> = {
    train: { model: "iris", version: "v2", "git-url": "https://example.com/repo.git" },
    deploy: { model: "iris", version: "v2", "git-url": "https://example.com/repo.git" },
    "train-and-deploy": { model: "iris", "git-url": "https://example.com/repo.git" },
    rollback: { model: "iris", version: "v1", "from-version": "v2" },
    simplified: {
        model: "iris",
        version: "v3",
        "git-url": "https://example.com/repo.git",
        image: "registry.example/model-server:abc@sha256:0",
    },
};
const runs = (gpus: number) =>
    pipelines.map((p) =>
        pipelineRun(p, all, { params: RUN_PARAMS[p.metadata.name], trainingGpus: gpus, gpuScheduling: GPU }),
    );

const refs = (text: string, re: RegExp) => [...text.matchAll(re)].map((m) => m[1]);

describe("Tekton tasks and pipelines", function () {
    this.timeout(120_000);

    it("defines the five pipelines from the issue", () => {
        assert.deepEqual(
            pipelines.map((p) => p.metadata.name),
            [...PIPELINE_NAMES],
        );
        assert.deepEqual([...PIPELINE_NAMES], ["train", "deploy", "train-and-deploy", "rollback", "simplified"]);
        assert.deepEqual(
            pipelines.find((p) => p.metadata.name === "train")!.spec.tasks.map((t) => t.name),
            ["fetch-source", "validate-data", "train", "evaluate", "register"],
        );
        for (const name of ["deploy", "train-and-deploy"]) {
            const p = pipelines.find((x) => x.metadata.name === name)!;
            assert.deepEqual(
                p.spec.tasks.slice(-4).map((t) => t.name),
                ["deploy", "smoke-test", "promote", "route"],
            );
            assert.equal(
                p.spec.tasks[0].name === "choose-versions" || p.spec.tasks[1].name === "choose-versions",
                true,
            );
        }
        assert.deepEqual(
            pipelines.find((p) => p.metadata.name === "rollback")!.spec.tasks.map((t) => t.name),
            ["smoke-test", "route"],
        );
    });

    it("deploy and train-and-deploy promote progressively, switch for single, and move nothing in place", () => {
        for (const name of ["deploy", "train-and-deploy"]) {
            const p = pipelines.find((x) => x.metadata.name === name)!;
            const t = (n: string) => p.spec.tasks.find((x) => x.name === n)!;
            const rollout = "$(tasks.choose-versions.results.rollout)";
            assert.deepEqual(t("promote").when, [{ input: rollout, operator: "in", values: ["progressive"] }]);
            assert.deepEqual(t("route").when, [{ input: rollout, operator: "in", values: ["switch"] }]);
            assert.deepEqual(t("route").params?.find((x) => x.name === "strategy")?.value, "single");
            const promote = Object.fromEntries((t("promote").params ?? []).map((x) => [x.name, x.value]));
            assert.equal(promote["baseline-version"], "$(tasks.choose-versions.results.baseline)");
            assert.equal(promote.strategy, "$(tasks.choose-versions.results.strategy)");
            assert.deepEqual(t("promote").runAfter, ["smoke-test", "choose-versions"]);
            // The run fails when promote rolls back; the finally report pushes that status.
            assert.ok(
                (p.spec.finally ?? []).some(
                    (f) => f.name === "report" && f.params?.some((x) => x.value === "$(tasks.status)"),
                ),
            );
        }
        // train-and-deploy delivers into the chosen slot and compares with the chosen baseline everywhere.
        const tad = pipelines.find((x) => x.metadata.name === "train-and-deploy")!;
        for (const pt of [...tad.spec.tasks, ...(tad.spec.finally ?? [])].filter((x) => x.name !== "choose-versions")) {
            for (const prm of pt.params ?? []) {
                if (prm.name === "version" || prm.name === "candidate-version")
                    assert.equal(prm.value, "$(tasks.choose-versions.results.version)", `${pt.name} ${prm.name}`);
                if (prm.name === "production-version")
                    assert.equal(prm.value, "$(tasks.choose-versions.results.baseline)", pt.name);
            }
        }
        assert.equal(
            tad.spec.params?.find((x) => x.name === "version")?.default,
            "",
            "a trigger need not name the version",
        );
        assert.ok(!tad.spec.params?.some((x) => x.name === "production-version"), "the baseline comes from the route");
    });

    it("is clean under @ibm/tekton-lint: every Task, Pipeline and PipelineRun", async () => {
        const problems = await lint([...all, ...pipelines, ...runs(0), ...runs(1)]);
        assert.deepEqual(problems, []);
    });

    it("tekton-lint catches a broken pipeline (the check can fail)", async () => {
        const broken: Pipeline = {
            ...pipelines[0],
            spec: {
                ...pipelines[0].spec,
                tasks: [...pipelines[0].spec.tasks, { name: "ghost", taskRef: { name: "no-such-task" } }],
            },
        };
        const problems = await lint([...all, broken]);
        assert.ok(
            problems.some((p) => /no-such-task/.test(p.message)),
            JSON.stringify(problems),
        );
    });

    describe("wiring", () => {
        for (const p of pipelines) {
            describe(p.metadata.name, () => {
                const all: PipelineTask[] = [...p.spec.tasks, ...(p.spec.finally ?? [])];
                const names = new Set(all.map((t) => t.name));
                const pipelineParams = new Set((p.spec.params ?? []).map((x) => x.name));
                const pipelineWorkspaces = new Set((p.spec.workspaces ?? []).map((w) => w.name));

                it("references only defined tasks, and passes every required param and no unknown one", () => {
                    for (const pt of all) {
                        const task = taskByName.get(pt.taskRef.name);
                        assert.ok(task, `${pt.name} → ${pt.taskRef.name}`);
                        const declared = new Map((task.spec.params ?? []).map((x) => [x.name, x]));
                        const given = new Set((pt.params ?? []).map((x) => x.name));
                        for (const g of given)
                            assert.ok(
                                declared.has(g),
                                `${pt.name} passes ${g}, which ${task.metadata.name} does not declare`,
                            );
                        for (const [n, spec] of declared)
                            assert.ok(
                                spec.default !== undefined || given.has(n),
                                `${pt.name} misses required param ${n}`,
                            );
                    }
                });

                it("resolves every $(params.*), $(tasks.*.results.*) and workspace binding", () => {
                    for (const pt of all) {
                        const text = JSON.stringify(pt.params ?? []) + JSON.stringify(pt.when ?? []);
                        for (const ref of refs(text, /\$\(params\.([a-z0-9-]+)\)/g))
                            assert.ok(pipelineParams.has(ref), `${pt.name}: $(params.${ref})`);
                        for (const m of text.matchAll(/\$\(tasks\.([a-z0-9-]+)\.results\.([a-z0-9-]+)\)/g)) {
                            const producer = p.spec.tasks.find((t) => t.name === m[1]);
                            assert.ok(producer, `${pt.name}: result of unknown task ${m[1]}`);
                            const task = taskByName.get(producer.taskRef.name)!;
                            assert.ok(
                                (task.spec.results ?? []).some((r) => r.name === m[2]),
                                `${pt.name}: ${m[1]} has no result ${m[2]}`,
                            );
                            if (!(p.spec.finally ?? []).includes(pt))
                                assert.ok(
                                    upstream(p, pt.name).has(m[1]),
                                    `${pt.name} uses ${m[1]}'s result without running after it`,
                                );
                        }
                        const task = taskByName.get(pt.taskRef.name)!;
                        for (const w of task.spec.workspaces ?? []) {
                            const bound = (pt.workspaces ?? []).find((b) => b.name === w.name);
                            assert.ok(bound || w.optional, `${pt.name} does not bind workspace ${w.name}`);
                            if (bound)
                                assert.ok(
                                    pipelineWorkspaces.has(bound.workspace),
                                    `${pt.name} binds unknown workspace ${bound.workspace}`,
                                );
                        }
                    }
                });

                it("has an acyclic runAfter graph over existing tasks", () => {
                    for (const pt of p.spec.tasks)
                        for (const a of pt.runAfter ?? [])
                            assert.ok(names.has(a), `${pt.name} runs after unknown ${a}`);
                    assert.deepEqual(cycle(p.spec.tasks), null);
                });

                it("reports the outcome in finally, with the run's mode", () => {
                    const fin = p.spec.finally ?? [];
                    const report = fin.find((t) => t.name === "report" || t.name === "report-training");
                    assert.ok(report);
                    assert.ok(
                        fin.some((t) =>
                            (t.params ?? []).some((x) => x.name === "status" && x.value === "$(tasks.status)"),
                        ),
                    );
                    assert.ok(
                        fin.every((t) =>
                            (t.params ?? []).some((x) => x.name === "mode" && x.value === "$(params.mode)"),
                        ),
                    );
                });
            });
        }
        it("the cycle check finds a cycle", () => {
            assert.notEqual(
                cycle([
                    { name: "a", taskRef: { name: "x" }, runAfter: ["b"] },
                    { name: "b", taskRef: { name: "x" }, runAfter: ["a"] },
                ]),
                null,
            );
        });
    });

    describe("tasks", () => {
        for (const t of tasks) {
            it(`${t.metadata.name}: pinned images, requests on every step, declared params/results/workspaces only`, () => {
                for (const s of t.spec.steps) {
                    // A pinned public image, or the step runtime: its tag is the hash of its content
                    // (pipelines/core/runtime.ts), built into a registry whose tags are immutable where it can be.
                    assert.ok(
                        Object.values(IMAGES).includes(s.image as never) || s.image === RUNTIME_IMAGE,
                        `${s.name}: ${s.image} is neither from IMAGES nor the step runtime`,
                    );
                    assert.match(
                        s.image,
                        /(:[\w][\w.-]*[\d][\w.-]*|@sha256:[0-9a-f]{64})$/,
                        `${s.name}: ${s.image} pinned by tag or digest`,
                    );
                    assert.doesNotMatch(s.image, /:latest$/);
                    assert.ok(
                        s.computeResources.requests.cpu && s.computeResources.requests.memory,
                        `${s.name} requests cpu and memory`,
                    );
                    assert.ok(s.script.startsWith("#!"), `${s.name} script has a #! line`);
                }
                const text = JSON.stringify(t.spec.steps) + JSON.stringify(t.spec.stepTemplate);
                const params = new Set((t.spec.params ?? []).map((p) => p.name));
                for (const ref of refs(text, /\$\(params\.([a-z0-9-]+)\)/g))
                    assert.ok(params.has(ref), `$(params.${ref})`);
                const results = new Set((t.spec.results ?? []).map((r) => r.name));
                for (const ref of refs(text, /\$\(results\.([a-z0-9-]+)\.path\)/g))
                    assert.ok(results.has(ref), `$(results.${ref})`);
                for (const r of results) assert.ok(text.includes(`$(results.${r}.path)`), `result ${r} is written`);
                const ws = new Set((t.spec.workspaces ?? []).map((w) => w.name));
                for (const ref of refs(text, /\$\(workspaces\.([a-z0-9-]+)\.path\)/g))
                    assert.ok(ws.has(ref), `$(workspaces.${ref})`);
                assert.ok(
                    Object.values(PIPELINE_SERVICE_ACCOUNTS).some((sa) => sa.name === t.metadata.labels?.[ROLE_LABEL]),
                );
            });
        }

        it("puts every contract metric name in the steps' environment, and no script spells one", () => {
            const env = metricEnv();
            assert.ok(
                env.some((e) => e.name === metricEnvName("deployLeadTime") && e.value === METRICS.deployLeadTime.name),
            );
            for (const t of tasks)
                assert.deepEqual(
                    t.spec.stepTemplate?.env?.filter((e) => e.name.startsWith("MLOPS_METRIC_")),
                    env,
                );
            const names = Object.values(METRICS).map((m) => m.name);
            for (const t of tasks)
                for (const s of t.spec.steps)
                    for (const n of names) assert.ok(!s.script.includes(n), `${t.metadata.name}/${s.name} spells ${n}`);
        });
    });

    describe("runs", () => {
        it("runs each task as its role's service account", () => {
            for (const run of runs(0)) {
                const p = pipelines.find((x) => x.metadata.name === run.spec.pipelineRef.name)!;
                for (const spec of run.spec.taskRunSpecs) {
                    const pt = [...p.spec.tasks, ...(p.spec.finally ?? [])].find(
                        (t) => t.name === spec.pipelineTaskName,
                    )!;
                    assert.equal(
                        spec.serviceAccountName,
                        taskByName.get(pt.taskRef.name)!.metadata.labels?.[ROLE_LABEL],
                    );
                }
            }
            const deploy = runs(0).find((r) => r.spec.pipelineRef.name === "train-and-deploy")!;
            const sa = (n: string) =>
                deploy.spec.taskRunSpecs.find((s) => s.pipelineTaskName === n)!.serviceAccountName;
            assert.deepEqual(
                [sa("choose-versions"), sa("train"), sa("build-image"), sa("deploy"), sa("promote"), sa("route")],
                ["deployer", "trainer", "builder", "deployer", "deployer", "deployer"],
            );
        });

        it("GPU runs: every GPU task tolerates the GPU taint, selects GPU nodes and limits nvidia.com/gpu", () => {
            let gpuTasks = 0;
            for (const run of runs(1)) {
                const p = pipelines.find((x) => x.metadata.name === run.spec.pipelineRef.name)!;
                for (const pt of p.spec.tasks) {
                    const task = taskByName.get(pt.taskRef.name)!;
                    if (task.metadata.labels?.[GPU_CAPABLE_LABEL] !== "true") continue;
                    gpuTasks++;
                    const spec = run.spec.taskRunSpecs.find((s) => s.pipelineTaskName === pt.name)!;
                    assert.deepEqual(spec.podTemplate?.tolerations, GPU.tolerations);
                    assert.deepEqual(spec.podTemplate?.nodeSelector, GPU.nodeSelector);
                    assert.equal(spec.stepSpecs?.[0].computeResources.limits?.["nvidia.com/gpu"], "1");
                    assert.ok(task.spec.steps.some((s) => s.name === spec.stepSpecs?.[0].name));
                    assert.deepEqual(
                        run.spec.taskRunTemplate.podTemplate?.tolerations,
                        GPU.tolerations,
                        "the whole run (affinity assistant) goes to the GPU node",
                    );
                }
            }
            assert.equal(gpuTasks, 3, "train in train and train-and-deploy, quick-train in simplified");
            for (const run of runs(0))
                assert.ok(run.spec.taskRunSpecs.every((s) => s.podTemplate === undefined && s.stepSpecs === undefined));
        });

        it("every run passes the wiring checks (existing pipeline, declared params only, every required one, workspaces, service accounts)", () => {
            for (const run of [...runs(0), ...runs(1)])
                assert.deepEqual(runProblems(run, pipelines), [], run.spec.pipelineRef.name);
            const bad = {
                ...runs(0)[0],
                spec: { ...runs(0)[0].spec, params: [{ name: "colour", value: "red" }], workspaces: [] },
            };
            assert.deepEqual(runProblems(bad, pipelines), [
                "passes colour, which train does not declare",
                "misses train's required param model",
                "misses train's required param version",
                "misses train's required param git-url",
                "binds no workspace source",
            ]);
            assert.deepEqual(runProblems({ spec: { pipelineRef: { name: "nope" } } }, pipelines), [
                "names no existing Pipeline (nope)",
            ]);
        });

        it("refuses unknown and missing params with a clear message", () => {
            const train = pipelines[0];
            assert.throws(
                () =>
                    pipelineRun(train, tasks, {
                        params: { ...RUN_PARAMS.train, colour: "red" },
                        trainingGpus: 0,
                        gpuScheduling: GPU,
                    }),
                (e: unknown) => e instanceof RunError && /no param colour/.test(e.message),
            );
            assert.throws(
                () => pipelineRun(train, tasks, { params: { model: "iris" }, trainingGpus: 0, gpuScheduling: GPU }),
                /needs --param version=\.\.\. --param git-url=\.\.\./,
            );
        });
    });
});

function upstream(p: Pipeline, name: string): Set<string> {
    const seen = new Set<string>();
    const visit = (n: string) => {
        for (const a of p.spec.tasks.find((t) => t.name === n)?.runAfter ?? [])
            if (!seen.has(a)) {
                seen.add(a);
                visit(a);
            }
    };
    visit(name);
    return seen;
}

/** A cycle in the runAfter graph as a list of task names, or null. */
function cycle(tasks: readonly PipelineTask[]): string[] | null {
    const state = new Map<string, "open" | "done">();
    const after = new Map(tasks.map((t) => [t.name, t.runAfter ?? []]));
    const visit = (n: string, trail: string[]): string[] | null => {
        if (state.get(n) === "done") return null;
        if (state.get(n) === "open") return [...trail, n];
        state.set(n, "open");
        for (const a of after.get(n) ?? []) {
            const c = visit(a, [...trail, n]);
            if (c) return c;
        }
        state.set(n, "done");
        return null;
    };
    for (const t of tasks) {
        const c = visit(t.name, []);
        if (c) return c;
    }
    return null;
}

export type { Task };
