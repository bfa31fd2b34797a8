/**
 * What the study performs: every standardized task of contract/study-tasks.ts in every delivery mode, started the
 * way the task says (a git push, a dataset change or a drift alert through the EventListener for the automated
 * mode; the pipeline a person starts for the simplified mode; docs/manual-runbook.md, scripted, and
 * `npm run record-manual-delivery` for the manual mode), with the model's traffic sent through the gateway.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Json } from "../../contract/json";
import { GATEWAY_NAMESPACE, MODEL_LABEL_KEYS } from "../../contract/names";
import { DELIVERY_MODES } from "../../contract/metric-contract";
import { TASK_IDS } from "../../contract/study-tasks";
import type { Cluster } from "../cluster/control-plane";
import { PROJECT_ROOT } from "../stack";
import type { PipelineRunOutcome } from "./pipeline-run";
import type { FiredRun, Kubelet } from "./roles";
import { logApiAction, runCommand } from "./runbook-log";
import { withParams } from "./scalability";
import { ADDRESSES } from "./services";
import { GIT_HOST } from "./stack";
import { TrafficLedger, type TrafficFailures } from "./traffic";

export const MODEL = "iris";

/**
 * The models of the study's stack: the main scenario's model first, then the others the scalability runs deliver
 * at once (each the same reference workload, pipelines/workload, under its own name, source folder and route).
 */
export const STUDY_MODELS = [MODEL, "iris-b", "iris-c", "iris-d"] as const;

export interface RunRecord {
    readonly name: string;
    readonly pipeline: string;
    readonly mode: string;
    readonly task: string;
    readonly trigger: string;
    readonly outcome: PipelineRunOutcome;
    readonly seconds: number;
}

export interface Repo {
    readonly bare: string;
    readonly dir: string;
    /** Commits `content` to `file` (or edits it with `edit`) and pushes; the commit's id, time and files. */
    commit(file: string, content: string | ((old: string) => string), message: string): Commit;
    /** Commits every file of `files` (path to new content) in one commit and pushes it. */
    commitFiles(files: Readonly<Record<string, string>>, message: string): Commit;
}
export interface Commit {
    readonly sha: string;
    readonly time: string;
    readonly files: string[];
}

export interface ScenarioDeps {
    readonly cluster: Cluster;
    readonly kubelet: Kubelet;
    runPipelineRun(pipelineRun: Record<string, Json>, trigger: string): Promise<RunRecord>;
    pipelineRunOf(pipeline: string, params: Record<string, string>): Record<string, Json>;
    /** Runs the EventListener started, in order. */
    readonly fired: FiredRun[];
    /** The project's Python environment (the tools' pinned packages: moto, boto3, the workload's). */
    readonly python: string;
    readonly storeKeys: Record<string, string>;
    readonly storeUrl: string;
    readonly pushgatewayUrl: string;
    readonly repo: Repo;
    /** The git host's webhook secret (generated; in the git-webhook Secret). */
    readonly webhookSecret: string;
    /** A directory of the study's own (the store helper script). */
    readonly work: string;
    log(line: string): void;
}

/** A few labelled iris rows (features, class) for traffic with feedback; the drift traffic shifts them. */
const ROWS: readonly [number[], number][] = [
    [[5.1, 3.5, 1.4, 0.2], 0],
    [[4.9, 3.0, 1.4, 0.2], 0],
    [[7.0, 3.2, 4.7, 1.4], 1],
    [[6.4, 3.2, 4.5, 1.5], 1],
    [[6.3, 3.3, 6.0, 2.5], 2],
    [[5.8, 2.7, 5.1, 1.9], 2],
];

export class Scenario {
    /** Manual deliveries recorded with `npm run record-manual-delivery`: task and result. */
    private readonly manual: { task: string; ok: boolean }[] = [];
    private readonly git: { "git-url": string; "source-dir": string };
    /** The model-server image of this model's last build-image (the simplified pipeline deploys it). */
    lastImage = "";
    /**
     * The usage log of the manual delivery in progress: every command of the runbook runs under
     * `sh pipelines/lib/step_usage.sh command <log> -- ...` (docs/manual-runbook.md step 1) while it is set.
     */
    private usageLog: string | undefined;
    /** What became of the traffic this scenario sent through the gateway, phase by phase. */
    readonly trafficLedger: TrafficLedger;
    /** Accuracy and dataset version each manual evaluation printed, by the version it delivered. */
    private readonly manualEvaluations = new Map<string, { accuracy: number; datasetVersion: string }>();

    constructor(
        private readonly d: ScenarioDeps,
        /** The model this scenario delivers. */
        readonly model: string = MODEL,
    ) {
        this.git = { "git-url": `${GIT_HOST}models.git`, "source-dir": `models/${model}` };
        this.trafficLedger = new TrafficLedger(model);
    }

    get manualRuns(): number {
        return this.manual.length;
    }

    /** The manual deliveries this scenario recorded, by task. */
    get manualRecords(): readonly { task: string; ok: boolean }[] {
        return this.manual;
    }

    /**
     * The first version of a model the scalability runs add: its dataset in the store and a v1 build registered the
     * runbook's way (train.py, evaluate.py, then the store copy), so a delivery's validate-data and evaluate find the
     * serving version's reference data and metrics, as they do for the first model after its first train run.
     */
    async registerFirstVersion(): Promise<void> {
        await this.uploadDataset(`${this.model}/initial/train.csv`, []);
        const work = fs.mkdtempSync(path.join(this.d.work, "first-version-"));
        try {
            const model = path.join(work, `${this.model}-v1`);
            const src = path.join(this.d.repo.dir, "models", this.model);
            await this.py([path.join(src, "train.py"), "--out", model]);
            // metrics.json: the baseline a delivery's evaluate compares with.
            await this.py([path.join(src, "evaluate.py"), "--model-dir", model, "--threshold", "0.9"]);
            const build = `${new Date().toISOString().slice(0, 19).replace(/[-:]/g, "")}Z-first`;
            await this.s3(["upload", "models", model, `models/${this.model}/v1/${build}/`]);
        } finally {
            fs.rmSync(work, { recursive: true, force: true });
        }
    }

    /** The simplified pipeline into the standby slot, with the model's last image, one of `concurrency` at once. */
    async simplifiedDelivery(task: string, concurrency = 1): Promise<RunRecord> {
        if (!this.lastImage) throw new Error(`${this.model}: no image built yet for the simplified pipeline to deploy`);
        return this.runPipeline(
            this.d.pipelineRunOf("simplified", {
                model: this.model,
                version: await this.standby(),
                ...this.git,
                image: this.lastImage,
                "study-task": task,
                concurrency: String(concurrency),
            }),
            concurrency > 1 ? `a person, ${concurrency} at once` : "a person",
        );
    }

    /** Runs a PipelineRun of this model, noting the image its build-image built. */
    async runPipeline(pr: Record<string, Json>, trigger: string): Promise<RunRecord> {
        const r = await this.d.runPipelineRun(pr, trigger);
        const image = r.outcome.tasks.find((t) => t.name === "build-image")?.results.image;
        if (image) this.lastImage = image;
        return r;
    }

    async run(short: boolean): Promise<void> {
        const d = this.d;
        const run = (pr: Record<string, Json>, trigger: string) => this.runPipeline(pr, trigger);

        // The first version: train v1 and deploy it (what a user does once after `pulumi up`).
        await this.uploadDataset(`${this.model}/initial/train.csv`, []);
        await run(
            d.pipelineRunOf("train", {
                model: this.model,
                version: "v1",
                ...this.git,
                dataset: `store:${this.model}/`,
            }),
            "first version",
        );
        await run(d.pipelineRunOf("deploy", { model: this.model, version: "v1", ...this.git }), "first version");
        await this.traffic(30, { phase: "after the first version", labelled: true });

        // automated, deploy-new-version: a git push of a model change, signed with the generated webhook secret. The
        // push is the person's one action; the webhook carries no duration, so the study gives the run its time.
        const pushStarted = Date.now();
        const push = d.repo.commit(`models/${this.model}/params.txt`, "n_estimators=60\n", "Tune the model");
        const pushSeconds = (Date.now() - pushStarted) / 1000;
        await this.postGitPush(push);
        await run(...handsOn(await this.takeFired("git push", `${this.model}-git-push`), pushSeconds));

        // automated, retrain-changed-data: an object PUT into the datasets bucket -> the platform's event.
        const key = `${this.model}/${new Date().toISOString().slice(0, 10)}/train.csv`;
        const uploadSeconds = await this.uploadDataset(key, ["--seed", "2"]);
        await post(`http://${ADDRESSES.listener}:8080`, await this.datasetEvent("datasets", key), {});
        await run(...handsOn(await this.takeFired("dataset change", `${this.model}-dataset-change`), uploadSeconds));

        // automated, retrain-changed-data: shifted traffic -> Prometheus' ModelDataDrift -> Alertmanager -> listener.
        const driftFrom = Date.now();
        await this.traffic(60, { phase: "with shifted rows (drift)", shift: 4 });
        const [drifted, trigger] = await this.takeFired("drift alert", `${this.model}-retrain-alert`, 180_000);
        d.log(
            `ModelDataDrift: Prometheus fired it and Alertmanager delivered it ${((Date.now() - driftFrom) / 1000).toFixed(0)} s after the shifted traffic began`,
        );
        await run(drifted, trigger);
        await this.traffic(30, { phase: "after the drift retrain", labelled: true });

        // simplified: the person runs the simplified pipeline with the last image built.
        const simplified = (task: string) => this.simplifiedDelivery(task);
        await simplified("deploy-new-version");
        if (!short) await simplified("retrain-changed-data");

        // rollback-bad-version: the rollback pipeline, started by the study for the alert (automated) or a person.
        const rollback = async (mode: string, task: string) => {
            const now = await this.serving();
            return run(
                d.pipelineRunOf("rollback", {
                    model: this.model,
                    version: this.other(now),
                    "from-version": now,
                    mode,
                    "study-task": task,
                    // The automated rollback answers an alert: no person acted.
                    ...(mode === "automated" ? { "human-actions": "0", "hands-on-seconds": "0" } : {}),
                }),
                mode === "automated" ? "the study, for the alert (no trigger starts a rollback)" : "a person",
            );
        };
        await rollback("automated", "rollback-bad-version");
        await rollback("simplified", "rollback-bad-version");

        if (!short) {
            // side-by-side: a canary puts both versions on the route, analysed between steps (traffic flowing).
            for (const mode of ["automated", "simplified"])
                await this.withTraffic(async () =>
                    run(
                        d.pipelineRunOf("deploy", {
                            model: this.model,
                            version: await this.standby(),
                            ...this.git,
                            strategy: "canary",
                            mode,
                            "study-task": "side-by-side",
                        }),
                        mode === "automated" ? "the study, for a route change (no trigger carries one)" : "a person",
                    ),
                );
            // recover-failed-deployment, automated: a pushed server change that makes each prediction slow; the
            // canary's analysis sees the latency regression and rolls back.
            const slow = d.repo.commit(
                `models/${this.model}/server.py`,
                (old) =>
                    old.replace(
                        "        X = self.to_matrix(instances)\n",
                        '        __import__("time").sleep(0.4)\n        X = self.to_matrix(instances)\n',
                    ),
                "Serve with a slow pre-processing step",
            );
            await this.withTraffic(async () =>
                run(
                    d.pipelineRunOf("deploy", {
                        model: this.model,
                        version: await this.standby(),
                        ...this.git,
                        "git-revision": slow.sha,
                        strategy: "canary",
                        "study-task": "recover-failed-deployment",
                        "trigger-time": slow.time,
                    }),
                    "the study, for the push of the broken version",
                ),
            );
            d.repo.commit(
                `models/${this.model}/server.py`,
                (old) => old.replace('        __import__("time").sleep(0.4)\n', ""),
                "Revert the slow step",
            );
            // recover-failed-deployment, simplified: the person's simplified delivery goes bad; they roll back.
            await simplified("deploy-new-version");
            await rollback("simplified", "recover-failed-deployment");
        }

        // manual: docs/manual-runbook.md, scripted.
        await this.manualDelivery("deploy-new-version");
        await this.manualRollback("rollback-bad-version");
        if (!short) {
            await this.manualDelivery(
                "retrain-changed-data",
                `${this.model}/${new Date().toISOString().slice(0, 10)}/train.csv`,
            );
            await this.manualDelivery("side-by-side", undefined, 50);
            await this.manualRecover();
        }
        await this.traffic(30, { phase: "after the manual deliveries", labelled: true });
    }

    /**
     * The tasks and modes performed (pipeline runs and the manual deliveries of this and the `others` scenarios), and
     * those a full study misses.
     */
    coverage(runs: readonly RunRecord[], others: readonly Scenario[] = []): { lines: string[]; missing: string[] } {
        const done = new Map<string, number>();
        const add = (k: string) => done.set(k, (done.get(k) ?? 0) + 1);
        for (const r of runs) if (r.task !== "-") add(`${r.task}/${r.mode}`);
        for (const s of [this, ...others.filter((o) => o !== this)]) for (const m of s.manual) add(`${m.task}/manual`);
        const lines: string[] = [];
        const missing: string[] = [];
        for (const t of TASK_IDS) {
            const cells = DELIVERY_MODES.map((m) => `${m} ${done.get(`${t}/${m}`) ?? 0}`);
            lines.push(`performed ${t}: ${cells.join(", ")}`);
            for (const m of DELIVERY_MODES) if (!done.get(`${t}/${m}`)) missing.push(`${t}/${m}`);
        }
        return { lines, missing };
    }

    // --- the manual runbook (docs/manual-runbook.md), step by step ---

    /**
     * Runbook steps 1-7 for a new version (trained on `datasetKey` from the store when given), one of `concurrency`
     * the person started at once.
     */
    async manualDelivery(task: string, datasetKey?: string, splitWeight = 100, concurrency = 1): Promise<void> {
        const d = this.d;
        const from = await this.serving();
        const version = this.other(from);
        const started = new Date().toISOString().slice(0, 19) + "Z"; // 1. note the start time
        const work = fs.mkdtempSync(path.join(os.tmpdir(), "study-manual-"));
        this.usageLog = path.join(work, "usage.log");
        fs.writeFileSync(this.usageLog, "");
        try {
            const model = path.join(work, `${this.model}-${version}`);
            const data = datasetKey ? path.join(work, "train.csv") : undefined;
            if (datasetKey) await this.s3(["download", "datasets", datasetKey, data!]);
            // 2. train and evaluate from a checkout of the model's source
            await this.py([
                path.join(d.repo.dir, "models", this.model, "train.py"),
                "--out",
                model,
                ...(data ? ["--data", data] : []),
            ]);
            await this.py([
                path.join(d.repo.dir, "models", this.model, "evaluate.py"),
                "--model-dir",
                model,
                "--threshold",
                "0.9",
            ]);
            const metrics = JSON.parse(fs.readFileSync(path.join(model, "metrics.json"), "utf8")) as {
                accuracy: number;
                data_sha256: string;
            };
            this.manualEvaluations.set(version, {
                accuracy: metrics.accuracy,
                // validate-data's names: the store key for stored data, builtin-<name>-<hash> for built-in data.
                datasetVersion: datasetKey ?? `builtin-${this.model}-${metrics.data_sha256.slice(0, 12)}`,
            });
            // 3. register, never overwriting: a new build prefix of the version, which must not exist yet
            const build = `${started.replace(/[-:]/g, "")}-manual`;
            await this.s3(["upload", "models", model, `models/${this.model}/${version}/${build}/`]);
            // 4. deploy: the serving version's Deployment, edited for the new version and build
            await this.applyDeployment(from, version, build);
            await this.waitServing(version);
            // 5. smoke test
            await this.smoke(version);
            // 6. route
            await this.setWeights({ [version]: splitWeight, [from]: 100 - splitWeight });
            // 7. record
            await this.record(task, version, started, true, concurrency);
        } catch (e) {
            // A delivery that broke off is a failed run: recorded as such (failure rate), then the error goes on.
            await this.record(task, version, started, false, concurrency).catch(() => undefined);
            throw e;
        } finally {
            this.usageLog = undefined;
            fs.rmSync(work, { recursive: true, force: true });
        }
    }

    /** A runbook fragment with its own usage log (the rollback and the recovery). */
    private async withUsageLog(body: () => Promise<void>): Promise<void> {
        const work = fs.mkdtempSync(path.join(os.tmpdir(), "study-manual-"));
        this.usageLog = path.join(work, "usage.log");
        fs.writeFileSync(this.usageLog, "");
        try {
            await body();
        } finally {
            this.usageLog = undefined;
            fs.rmSync(work, { recursive: true, force: true });
        }
    }

    /** The rollback runbook: traffic back to the previous version, smoke test, record. */
    private async manualRollback(task: string): Promise<void> {
        await this.withUsageLog(async () => {
            const started = new Date().toISOString().slice(0, 19) + "Z";
            const back = this.other(await this.serving());
            await this.smoke(back);
            await this.setWeights({ [back]: 100, [this.other(back)]: 0 });
            await this.record(task, back, started, true);
        });
    }

    /** A broken version by hand (a build that is not in the store: its pod never starts), then the good one again. */
    private async manualRecover(): Promise<void> {
        await this.withUsageLog(async () => this.manualRecoverSteps());
    }

    private async manualRecoverSteps(): Promise<void> {
        const good = await this.serving();
        const broken = this.other(good);
        const started = new Date().toISOString().slice(0, 19) + "Z";
        await this.applyDeployment(good, broken, "19700101T000000Z-missing");
        // The person watches the pod (`kubectl get pod -w`) until it fails.
        await this.runbookEdit(`kubectl -n ${this.model}-${broken} get pod -w`, async () => {
            const deadline = Date.now() + 60_000;
            while (this.d.kubelet.state(`${this.model}-${broken}`)?.phase !== "Init:Error") {
                if (Date.now() > deadline) throw new Error("manual recover: the broken version's pod did not fail");
                await sleep(500);
            }
        });
        this.d.log(
            `manual recover-failed-deployment: ${this.model}-${broken} ${this.d.kubelet.state(`${this.model}-${broken}`)?.message}`,
        );
        // The person keeps the good version serving, confirms it, and records the recovery.
        await this.setWeights({ [good]: 100, [broken]: 0 });
        await this.smoke(good);
        await this.record("recover-failed-deployment", good, started, true);
    }

    private async record(task: string, version: string, started: string, ok: boolean, concurrency = 1) {
        const evaluation = this.manualEvaluations.get(version);
        const out = await runCommand(
            "npm",
            [
                "run",
                "--silent",
                "record-manual-delivery",
                "--",
                "--model",
                this.model,
                "--version",
                version,
                "--started",
                started,
                "--task",
                task,
                "--run",
                `manual-${this.model}-${this.manual.length + 1}-${Date.now().toString(36)}`,
                "--concurrency",
                String(concurrency),
                "--result",
                ok ? "success" : "failure",
                "--pushgateway",
                this.d.pushgatewayUrl,
                ...(this.usageLog && fs.existsSync(this.usageLog) ? ["--usage-log", this.usageLog] : []),
                // Only a version this mode evaluated: a manual rollback or recovery evaluates nothing.
                ...(evaluation
                    ? ["--eval-accuracy", String(evaluation.accuracy), "--dataset-version", evaluation.datasetVersion]
                    : []),
            ],
            {},
            undefined,
            PROJECT_ROOT,
        );
        this.manual.push({ task, ok });
        this.d.log(`manual ${task}${concurrency > 1 ? ` (${concurrency} at once)` : ""}: ${out.trim()}`);
    }

    /** A runbook step the study makes through its API client: one line of the usage log while a runbook runs. */
    private async runbookEdit<T>(command: string, act: () => Promise<T>): Promise<T> {
        return this.usageLog ? logApiAction(this.usageLog, command, act) : act();
    }

    private async applyDeployment(from: string, to: string, build: string): Promise<void> {
        const dep = await this.d.cluster.admin.read<Json>(
            "apps/v1",
            "Deployment",
            "model-server",
            `${this.model}-${from}`,
        );
        const spec = structuredClone(dep.spec);
        const labels = structuredClone(dep.metadata.labels ?? {});
        // The version's labels, its MODEL_VERSION and the build prefix the init container downloads.
        for (const l of [labels, spec.template.metadata.labels ?? {}])
            for (const [k, v] of Object.entries(l)) if (v === from) l[k] = to;
        for (const c of [...spec.template.spec.containers, ...(spec.template.spec.initContainers ?? [])]) {
            for (const e of c.env ?? []) if (e.name === "MODEL_VERSION") e.value = to;
            c.command = c.command?.map((a: string) =>
                /^models\/[^/]+\/[^/]+\/[^/]+\/$/.test(a) ? `models/${this.model}/${to}/${build}/` : a,
            );
        }
        await this.runbookEdit(`kubectl -n ${this.model}-${to} apply -f model-server.yaml`, () =>
            this.d.cluster.admin.apply({
                apiVersion: "apps/v1",
                kind: "Deployment",
                metadata: { name: "model-server", namespace: `${this.model}-${to}`, labels },
                spec: { ...spec, replicas: 1 },
            }),
        );
    }

    /** `kubectl rollout status`: until the version's server answers. */
    private async waitServing(version: string): Promise<void> {
        const ns = `${this.model}-${version}`;
        await this.runbookEdit(`kubectl -n ${ns} rollout status deploy/model-server`, () => this.waitReady(ns));
    }

    /**
     * Until the pod of the Deployment the API now holds runs and answers: the slot's previous pod may still answer
     * for a moment before the kubelet replaces it.
     */
    private async waitReady(ns: string): Promise<void> {
        const dep = await this.d.cluster.admin.read<Json>("apps/v1", "Deployment", "model-server", ns);
        const deadline = Date.now() + 120_000;
        for (;;) {
            const s = this.d.kubelet.state(ns);
            if (this.d.kubelet.runsTemplate(ns, dep.spec.template)) {
                if (s?.phase === "Running" && (await healthy(`http://${s.ip}:8080/healthz`))) return;
                if (s && s.phase !== "Running") throw new Error(`${ns}: ${s.phase} ${s.message ?? ""}`);
            }
            if (Date.now() > deadline) throw new Error(`${ns}: not serving within 120 s`);
            await sleep(500);
        }
    }

    private async smoke(version: string): Promise<void> {
        const ip = this.d.kubelet.ip(`${this.model}-${version}`);
        const body = JSON.stringify({ instances: [ROWS[0][0]] });
        // The runbook's `curl` (step 5), under the usage wrapper, during a manual delivery.
        const r = this.usageLog
            ? (JSON.parse(
                  await this.command("curl", ["-sS", "--fail", `http://${ip}:8080/predict`, "-d", body]),
              ) as Record<string, Json>)
            : await post(`http://${ip}:8080/predict`, body, {});
        if (!Array.isArray(r.predictions)) throw new Error(`smoke test of ${version}: ${JSON.stringify(r)}`);
    }

    /** `kubectl edit httproute`: the weights of the model's backends by version. */
    private async setWeights(byVersion: Record<string, number>): Promise<void> {
        const route = await this.route();
        for (const rule of route.spec.rules)
            for (const b of rule.backendRefs ?? []) {
                const v = (b.namespace as string).slice(this.model.length + 1);
                if (v in byVersion) b.weight = byVersion[v];
            }
        await this.runbookEdit(
            `kubectl -n ${GATEWAY_NAMESPACE} edit httproute -l ${MODEL_LABEL_KEYS.model}=${this.model}`,
            () =>
                this.d.cluster.admin.apply({
                    apiVersion: route.apiVersion,
                    kind: route.kind,
                    metadata: {
                        name: route.metadata.name,
                        namespace: route.metadata.namespace,
                        labels: route.metadata.labels,
                    },
                    spec: route.spec,
                }),
        );
    }

    // --- helpers ---

    private async route(): Promise<Json> {
        const routes = await this.d.cluster.admin.list<Json>(
            "gateway.networking.k8s.io/v1",
            "HTTPRoute",
            GATEWAY_NAMESPACE,
            `${MODEL_LABEL_KEYS.model}=${this.model}`,
        );
        return routes[0];
    }

    /** The version with the most weight on the model's route. */
    async serving(): Promise<string> {
        const w: Record<string, number> = {};
        for (const rule of (await this.route()).spec.rules)
            for (const b of rule.backendRefs ?? [])
                w[(b.namespace as string).slice(this.model.length + 1)] = b.weight ?? 1;
        return Object.entries(w).sort((a, b) => b[1] - a[1])[0][0];
    }
    private other(v: string): string {
        return v === "v1" ? "v2" : "v1";
    }
    /** The version slot without traffic: where the next delivery goes. */
    private async standby(): Promise<string> {
        return this.other(await this.serving());
    }

    async takeFired(what: string, trigger: string, timeoutMs = 15_000): Promise<[Record<string, Json>, string]> {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            const i = this.d.fired.findIndex((f) => f.trigger === trigger);
            if (i >= 0) {
                const [f] = this.d.fired.splice(i, 1);
                return [f.pipelineRun, f.trigger];
            }
            if (Date.now() > deadline)
                throw new Error(`${what}: the EventListener started no ${trigger} run within ${timeoutMs / 1000} s`);
            await sleep(500);
        }
    }

    async postGitPush(c: Commit): Promise<void> {
        const payload = JSON.stringify({
            ref: "refs/heads/main",
            after: c.sha,
            repository: { clone_url: `${GIT_HOST}models.git`, full_name: "study/models" },
            head_commit: { id: c.sha, timestamp: c.time, added: [], modified: c.files, removed: [] },
            commits: [{ id: c.sha, timestamp: c.time, added: [], modified: c.files, removed: [] }],
        });
        const { createHmac } = await import("node:crypto");
        await post(`http://${ADDRESSES.listener}:8080`, payload, {
            "X-GitHub-Event": "push",
            "X-Hub-Signature-256": `sha256=${createHmac("sha256", this.d.webhookSecret).update(payload).digest("hex")}`,
        });
    }

    /**
     * Requests through the gateway: rows (shifted by `shift` on every feature), with labelled feedback if asked, each
     * counted in the ledger under `phase`. Unless `failures` is "count", a failed request stops the study once the
     * phase's requests are sent (tools/study/traffic.ts).
     */
    async traffic(
        n: number,
        opts: { phase: string; shift?: number; labelled?: boolean; failures?: TrafficFailures },
    ): Promise<void> {
        const url = `http://${ADDRESSES.gateway}:8080/models/${this.model}`;
        const failures = opts.failures ?? "stop-the-study";
        const send = (endpoint: string, body: Json) =>
            post(`${url}/${endpoint}`, JSON.stringify(body), {}).then(
                () => this.trafficLedger.record(opts.phase, failures),
                (e: unknown) => this.trafficLedger.record(opts.phase, failures, (e as Error).message),
            );
        for (let i = 0; i < n; i++) {
            const [x, y] = ROWS[i % ROWS.length];
            const row = x.map((v) => v + (opts.shift ?? 0));
            await send("predict", { instances: [row] });
            if (opts.labelled) await send("feedback", { instances: [row], labels: [y] });
        }
        const problem = this.trafficLedger.problem();
        if (problem) throw new Error(problem);
    }

    /** Runs `f` with labelled traffic flowing (about 4 requests a second) for the promotion's analyses. */
    private async withTraffic<T>(f: () => Promise<T>): Promise<T> {
        let on = true;
        const loop = (async () => {
            while (on) {
                // The route changes under this traffic: failures are counted and printed, not fatal.
                await this.traffic(1, { phase: "during canary analyses", labelled: true, failures: "count" });
                await sleep(250);
            }
        })();
        try {
            return await f();
        } finally {
            on = false;
            await loop;
        }
    }

    private py(args: string[], env: Record<string, string> = {}): Promise<string> {
        return this.command(path.join(this.d.python, "bin", "python"), args, env);
    }

    /** A command; under step_usage.sh's `command` mode (one line of the usage log) during a manual delivery. */
    private command(file: string, args: string[], env: Record<string, string> = {}): Promise<string> {
        return runCommand(file, args, env, this.usageLog);
    }

    /** The store as the runbook's `aws s3` commands use it (boto3 here: the same S3 calls). */
    private async s3(args: ["download", string, string, string] | ["upload", string, string, string]): Promise<void> {
        // A script file in the study's work directory, not `python -c`: the usage log holds each command on one line.
        const script = path.join(this.d.work, "s3.py");
        if (!fs.existsSync(script)) fs.writeFileSync(script, S3_COMMAND);
        await this.py([script, ...args], { ...this.d.storeKeys, STORE_ENDPOINT: this.d.storeUrl });
    }

    /** Generates a dataset and uploads it to `key`; the seconds the upload (a person's `aws s3 cp`) took. */
    async uploadDataset(key: string, extra: string[]): Promise<number> {
        const csv = path.join(this.d.work, `dataset-${Date.now()}.csv`);
        await this.py([
            path.join(PROJECT_ROOT, "pipelines/workload/data.py"),
            "--dataset",
            "iris",
            "--out",
            csv,
            ...extra,
        ]);
        const started = Date.now();
        await this.s3(["upload", "datasets", csv, key]);
        const seconds = (Date.now() - started) / 1000;
        fs.rmSync(csv);
        return seconds;
    }

    /** The dataset-change event every platform's consumer posts, built by contract/dataset_change_event.py. */
    private async datasetEvent(bucket: string, key: string): Promise<string> {
        return (
            await this.py(
                [
                    "-c",
                    `import json, os, sys; sys.path.insert(0, os.environ["C"]); import dataset_change_event as d; print(json.dumps(d.object_created(os.environ["B"], os.environ["K"], os.environ["T"])))`,
                ],
                {
                    C: path.join(PROJECT_ROOT, "contract"),
                    B: bucket,
                    K: key,
                    T: new Date().toISOString().slice(0, 19) + "Z",
                },
            )
        ).trim();
    }
}

/** upload <bucket> <file|dir> <key|prefix> (refusing an existing prefix), download <bucket> <key> <file>. */
const S3_COMMAND = `
import os, sys, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["STORE_ENDPOINT"], region_name="us-east-1")
op, bucket, a, b = sys.argv[1:5]
if op == "download":
    s3.download_file(bucket, a, b)
elif os.path.isdir(a):
    if s3.list_objects_v2(Bucket=bucket, Prefix=b).get("KeyCount", 0):
        sys.exit(f"{b} exists in {bucket}: a build is never overwritten")
    for root, _, files in os.walk(a):
        for f in files:
            p = os.path.join(root, f)
            s3.upload_file(p, bucket, b + os.path.relpath(p, a))
else:
    s3.upload_file(a, bucket, b)
`;

/**
 * A run a trigger started, with `seconds` as its hands-on time: the time of the person's command that caused the event
 * (the push, the upload), measured by the study because the event carries none.
 */
function handsOn(
    [pipelineRun, trigger]: [Record<string, Json>, string],
    seconds: number,
): [Record<string, Json>, string] {
    return [withParams(pipelineRun, { "hands-on-seconds": seconds.toFixed(3) }), trigger];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function healthy(url: string): Promise<boolean> {
    try {
        return (await fetch(url, { signal: AbortSignal.timeout(2000) })).ok;
    } catch {
        return false;
    }
}

async function post(url: string, body: string, headers: Record<string, string>): Promise<Json> {
    const r = await fetch(url, {
        method: "POST",
        body,
        headers: { "content-type": "application/json", ...headers },
        signal: AbortSignal.timeout(15_000),
    });
    if (!r.ok) throw new Error(`POST ${url}: ${r.status} ${await r.text()}`);
    return r.json();
}
