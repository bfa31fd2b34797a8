/**
 * What the pipelines measure for the study, as rendered: which finally task pushes which group, the params that
 * reach them, every step under the usage wrapper, and a stage-push step run for real against a recording Pushgateway.
 */
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { alertThresholdsSchema } from "../contract/config/monitoring";
import { promotionSchema } from "../contract/config/pipelines";
import { python, STEP_LIBRARY } from "../test/python";
import { LIB_PATH, STEP_USAGE_FILE, metricEnv, ownScript } from "./core/context";
import type { EnvVar, Pipeline, PipelineTask, Step } from "./core/tekton";
import { allTasks, renderPipelines, renderTasks } from "./index";

const pipelines = new Map(
    renderPipelines({ accuracyThreshold: 0.9, accuracyTolerance: 0.02 }).map((p) => [p.metadata.name, p]),
);
const pipeline = (name: string): Pipeline => pipelines.get(name)!;
const value = (t: PipelineTask, param: string) => t.params?.find((p) => p.name === param)?.value;
const DELIVERY = ["deploy", "train-and-deploy", "rollback", "simplified"];

describe("the study's measurements, as the pipelines render them", () => {
    it("only `report` pushes a run's delivery group; `report-training` pushes the training group (defects 1, 5)", () => {
        const finals = Object.fromEntries(
            [...pipelines.keys()].map((name) => [
                name,
                (pipeline(name).spec.finally ?? []).map((t) => [t.name, value(t, "event")]),
            ]),
        );
        assert.deepEqual(finals, {
            train: [["report-training", "train"]],
            deploy: [["report", "deploy"]],
            "train-and-deploy": [
                ["report", "deploy"],
                ["report-training", "train"],
            ],
            rollback: [["report", "rollback"]],
            // The simplified run's evaluation accuracy: quick-train scores its holdout.
            simplified: [
                ["report", "deploy"],
                ["report-training", "train"],
            ],
        });
        const quick = pipeline("simplified").spec.finally!.find((t) => t.name === "report-training")!;
        assert.equal(value(quick, "eval-accuracy"), "$(tasks.quick-train.results.accuracy)");
        assert.equal(value(quick, "dataset-version"), "$(tasks.quick-train.results.dataset-version)");
    });

    it("the run's resources leave out exactly its finally tasks, which run side by side and measure it", () => {
        const report = renderTasks().find((t) => t.metadata.name === "report")!;
        const env = report.spec.steps.flatMap((st: Step) => st.env ?? []);
        const measuring = JSON.parse(env.find((e: EnvVar) => e.name === "MEASURING_TASKS")!.value!) as string[];
        const finals = new Set([...pipelines.values()].flatMap((p) => (p.spec.finally ?? []).map((t) => t.name)));
        assert.deepEqual([...finals].sort(), [...measuring].sort());
    });

    it("every delivery run reports its start event, ease, concurrency and, where it promotes, promote's status (defect 2, item 9)", () => {
        for (const name of DELIVERY) {
            const p = pipeline(name);
            const report = p.spec.finally!.find((t) => t.name === "report")!;
            for (const param of ["trigger-time", "human-actions", "hands-on-seconds", "concurrency"]) {
                assert.ok(
                    (p.spec.params ?? []).some((x) => x.name === param),
                    `${name} takes ${param}`,
                );
                assert.equal(value(report, param), `$(params.${param})`, `${name}: report gets ${param}`);
            }
            const promotes = p.spec.tasks.some((t) => t.taskRef.name === "promote");
            assert.equal(
                value(report, "promote-status"),
                promotes ? "$(tasks.promote.status)" : undefined,
                `${name}: promote's status`,
            );
        }
    });

    it("labels every timed stage of a delivery run with the run's study task (defect 3)", () => {
        const timed = new Set(
            renderTasks()
                .filter((t) => t.spec.steps.some((s) => s.name === "stage-push"))
                .map((t) => t.metadata.name),
        );
        for (const name of DELIVERY) {
            const stages = pipeline(name).spec.tasks.filter((t) => timed.has(t.taskRef.name));
            assert.ok(stages.length > 0, name);
            for (const t of stages) assert.equal(value(t, "study-task"), "$(params.study-task)", `${name}/${t.name}`);
        }
    });

    it("runs every step of every Task under the usage wrapper, the last one pushing the TaskRun's usage (defect 4)", () => {
        const settings = { promotion: promotionSchema.parse({}), alerts: alertThresholdsSchema.parse({}) };
        for (const t of allTasks(settings)) {
            const steps = t.spec.steps as readonly Step[];
            steps.forEach((s, i) => {
                const call = s.script ?? ((s as { command?: string[] }).command ?? []).join(" ");
                const last = i === steps.length - 1 ? " last" : "";
                assert.ok(
                    call.includes(`sh ${LIB_PATH}/${STEP_USAGE_FILE} ${s.script ? "step" : "exec"} ${s.name}${last}`),
                    `${t.metadata.name}/${s.name} runs under the wrapper${last ? " as the last step" : ""}`,
                );
            });
        }
    });

    describe("a stage-push step, run", () => {
        let server: http.Server;
        let url: string;
        const pushes: { url: string; body: string }[] = [];
        let dir: string;

        before(async () => {
            server = http.createServer((req, res) => {
                let body = "";
                req.on("data", (d) => (body += d));
                req.on("end", () => {
                    pushes.push({ url: req.url!, body });
                    res.writeHead(200).end();
                });
            });
            await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
            url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "stage-push-"));
        });
        after(async () => {
            await new Promise<void>((r) => server.close(() => r()));
            fs.rmSync(dir, { recursive: true, force: true });
        });

        it("groups the stage duration by the run's task and PipelineRun, so runs keep their own (defect 3)", async () => {
            const task = renderTasks().find((t) => t.metadata.name === "smoke-test")!;
            const step = task.spec.steps.find((s) => s.name === "stage-push")!;
            const params: Record<string, string> = {
                model: "iris",
                version: "v2",
                mode: "automated",
                pipeline: "deploy",
                "study-task": "deploy-new-version",
            };
            const env: Record<string, string> = {
                PATH: process.env.PATH!,
                PUSHGATEWAY_URL: url,
                // The pod's labels as the downward API gives them, and the TaskRun's name.
                MLOPS_PIPELINE_RUN: "deploy-x7k2p",
                MLOPS_TASK_RUN: "deploy-x7k2p-smoke-test",
                ...Object.fromEntries(metricEnv().map((e) => [e.name, (e as { value: string }).value])),
            };
            for (const e of step.env as EnvVar[])
                env[e.name] = e.value!.replace(/\$\(params\.([a-z-]+)\)/g, (_, k: string) => params[k]);
            env.PYTHONPATH = STEP_LIBRARY;
            fs.writeFileSync(path.join(dir, "start"), String(Date.now() / 1000 - 2));
            // The Task's /stage emptyDir is a temporary directory here.
            const script = ownScript(step.script).replaceAll("/stage/", `${dir}/`);
            const code = await new Promise<number>((resolve) => {
                const p = spawn(python(), ["-c", script], { env, stdio: "inherit" });
                p.on("close", (c) => resolve(c ?? -1));
            });
            assert.equal(code, 0);
            assert.equal(pushes.length, 1);
            assert.equal(
                pushes[0].url,
                "/metrics/job/mlops-delivery/model/iris/version/v2/mode/automated/task/deploy-new-version/run/deploy-x7k2p/pipeline/deploy/stage/smoke-test",
            );
            const seconds = Number(/^mlops_pipeline_stage_duration_seconds\{[^}]*\} (\S+)$/m.exec(pushes[0].body)?.[1]);
            assert.ok(seconds >= 2 && seconds < 60, `stage duration ${seconds}`);
        });
    });
});
