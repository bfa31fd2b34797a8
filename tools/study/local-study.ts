/**
 * The study `npm run study:local` runs (tools/study/index.ts reads its arguments): a small but complete study on this
 * machine, no cloud. See docs/study.md ("A real study, locally") for what is real and what plays a role.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { cacheRoot } from "../cache";
import { parse as parseYaml } from "yaml";
import type { Json } from "../../contract/json";
import {
    GATEWAY_NAMESPACE,
    PIPELINES_NAMESPACE,
    PROMETHEUS_URL,
    PUSHGATEWAY_URL,
    EVENT_LISTENER_URL,
} from "../../contract/names";
import { MODEL_LABEL_KEYS } from "../../contract/names";
import { addNodes, build, installCrds, start, stop, type Cluster } from "../cluster/control-plane";
import { nodePools } from "../cluster/nodes";
import { planObjects, planStack } from "../cluster/plan-objects";
import { stepPython, stepRuntime, type TaskObject } from "../cluster/step-runner";
import { RUNTIME_REQUIREMENTS } from "../../pipelines/core/runtime";
import { PROJECT_ROOT } from "../stack";
import { checkDashboardQueries, describeOutcomes } from "./dashboards";
import { buildRun } from "../pipelinerun";
import { executorFor, serviceAccountsOf, type StepRecord } from "./executor";
import { runPipeline, type PipelineSpecObject } from "./pipeline-run";
import { EventListener, Gateway, ImageStore, Kubelet, type FiredRun } from "./roles";
import { MODEL, STUDY_MODELS, Scenario, type Repo, type RunRecord } from "./scenario";
import { deliverSeveralModels } from "./scalability";
import { CONCURRENCY_LEVELS, DELIVERY_MODES } from "../../contract/metric-contract";
import {
    ADDRESSES,
    STORE_PORT,
    Services,
    alertmanagerConfigForLoopback,
    prometheusConfig,
    ruleFiles,
} from "./services";
import { GIT_HOST, STORE_CREDENTIALS_SECRET, STUDY_STACK, writeStudyStack } from "./stack";
import { validateStackConfig } from "../../infra/config";
import { loadStack } from "../stack";

const log = (s: string) => console.log(`[study ${((Date.now() - T0) / 1000).toFixed(0).padStart(4)} s] ${s}`);
let T0 = Date.now();

function sh(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], ...opts });
}

/** What `npm run study:local` was asked for (its options, docs in tools/study/index.ts's usage). */
export interface StudyOptions {
    /** The CI variant: fewer tasks, one scalability level. */
    readonly short: boolean;
    /** Keep the work directory. */
    readonly keep: boolean;
    /** Where to write the report as JSON too, if anywhere. */
    readonly reportJson: string | undefined;
}

/** Runs the study and prints its report; 0 when it ran and reported, 1 when a step failed (work directory kept). */
export async function runStudy({ short, keep, reportJson }: StudyOptions): Promise<number> {
    // Scalability: the levels of deliver-several-models run, and the models they need (the first one is the main
    // scenario's).
    const levels: readonly number[] = short ? [2] : CONCURRENCY_LEVELS;
    const models = STUDY_MODELS.slice(0, Math.max(...levels));
    T0 = Date.now();
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "mlops-study-"));
    const services = new Services(path.join(work, "services"));
    let cluster: Cluster | undefined;
    let kubelet: Kubelet | undefined;
    let gateway: Gateway | undefined;
    let listener: EventListener | undefined;
    const runs: RunRecord[] = [];
    const steps: StepRecord[] = [];
    let failed = false;
    try {
        // --- the plan of the study's stack ---
        const projectDir = writeStudyStack(path.join(work, "project"), models);
        const { config, secretKeys } = loadStackFrom(projectDir);
        const plan = planStack(STUDY_STACK, path.join(work, "plan"), projectDir);
        const { apply, skipped } = planObjects(plan);
        const manifests = (pred: (o: Record<string, Json>) => boolean) =>
            fs
                .readdirSync(path.join(plan.dir, "manifests"))
                .map(
                    (f) =>
                        parseYaml(fs.readFileSync(path.join(plan.dir, "manifests", f), "utf8")) as Record<string, Json>,
                )
                .filter(pred);
        log(
            `plan of stack ${STUDY_STACK} (existing-example, external store): ${apply.length} objects to apply, ${skipped.length} left out`,
        );

        // --- real services on loopback ---
        const python = bashOut(["tools/python-env.sh", "path"]).trim();
        const moto = await services.start(
            "moto",
            path.join(python, "bin", "moto_server"),
            ["-H", ADDRESSES.store, "-p", String(STORE_PORT)],
            `http://${ADDRESSES.store}:${STORE_PORT}`,
            `http://${ADDRESSES.store}:${STORE_PORT}/moto-api/`,
        );
        const storeKeys = {
            AWS_ACCESS_KEY_ID: `study${randomBytes(6).toString("hex")}`,
            AWS_SECRET_ACCESS_KEY: randomBytes(24).toString("base64url"),
        };
        spawnOrThrow(path.join(python, "bin", "python"), ["-c", CREATE_BUCKETS], {
            ...storeKeys,
            STORE_ENDPOINT: moto.url,
        });
        const pg = new URL(PUSHGATEWAY_URL);
        const pushgateway = await services.start(
            "pushgateway",
            "prometheus-pushgateway",
            [`--web.listen-address=${ADDRESSES.pushgateway}:${pg.port}`],
            `http://${ADDRESSES.pushgateway}:${pg.port}`,
            `http://${ADDRESSES.pushgateway}:${pg.port}/-/ready`,
        );
        const release = JSON.parse(fs.readFileSync(path.join(plan.dir, "plan.json"), "utf8")).resources.find(
            (r: Json) => r.inputs?.values?.alertmanager?.config,
        );
        const amConfig = alertmanagerConfigForLoopback(
            release.inputs.values.alertmanager.config,
            `http://${ADDRESSES.listener}:8080`,
            EVENT_LISTENER_URL,
        );
        const amFile = path.join(work, "alertmanager.yml");
        fs.writeFileSync(amFile, JSON.stringify(amConfig));
        await services.start(
            "alertmanager",
            "prometheus-alertmanager",
            [
                `--config.file=${amFile}`,
                `--storage.path=${path.join(work, "alertmanager")}`,
                `--web.listen-address=${ADDRESSES.alertmanager}:9093`,
                "--cluster.listen-address=",
            ],
            `http://${ADDRESSES.alertmanager}:9093`,
            `http://${ADDRESSES.alertmanager}:9093/-/ready`,
        );
        const targetsFile = path.join(work, "model-servers.json");
        const rules = ruleFiles(
            manifests((o) => o.kind === "PrometheusRule"),
            path.join(work, "rules"),
        );
        const promFile = path.join(work, "prometheus.yml");
        fs.writeFileSync(targetsFile, "[]");
        fs.writeFileSync(
            promFile,
            prometheusConfig({ pushgateway: `${ADDRESSES.pushgateway}:${pg.port}`, targetsFile, ruleFiles: rules }),
        );
        const pr = new URL(PROMETHEUS_URL);
        const prometheus = await services.start(
            "prometheus",
            "prometheus",
            [
                `--config.file=${promFile}`,
                `--storage.tsdb.path=${path.join(work, "tsdb")}`,
                `--web.listen-address=${ADDRESSES.prometheus}:${pr.port}`,
            ],
            `http://${ADDRESSES.prometheus}:${pr.port}`,
            `http://${ADDRESSES.prometheus}:${pr.port}/-/ready`,
        );
        log(`services: ${services.started.map((s) => `${s.name} pid ${s.pid} ${s.url}`).join("; ")}`);
        log(
            `Prometheus loaded ${rules.length} rule files of the plan; Alertmanager the plan's routes (retrain receiver -> the study's EventListener)`,
        );

        // --- the local control plane, with the plan applied and the Secrets' values generated here ---
        const b = build();
        cluster = await start(path.join(work, "cluster"));
        await installCrds(cluster.admin);
        const cfg = validateStackConfig(config, secretKeys).config!;
        await addNodes(cluster.admin, nodePools(plan.cloud, plan.resources, cfg));
        await cluster.admin
            .apply({
                apiVersion: "v1",
                kind: "Namespace",
                metadata: { name: STORE_CREDENTIALS_SECRET.namespace },
            } as Json)
            .catch(() => undefined);
        for (const o of apply) await cluster.admin.apply(o.object as Json);
        const webhookSecret = randomBytes(32).toString("hex");
        const secretValues = (name: string): Record<string, string> | undefined =>
            name.endsWith("-store-credentials") || name === STORE_CREDENTIALS_SECRET.name
                ? storeKeys
                : name === "git-webhook"
                  ? { secret: webhookSecret }
                  : undefined;
        for (const o of apply.filter((x) => x.object.kind === "Secret")) {
            const values = secretValues(o.object.metadata.name);
            if (!values) continue;
            await cluster.admin.apply({
                ...o.object,
                data: Object.fromEntries(
                    Object.entries(values).map(([k, v]) => [k, Buffer.from(v).toString("base64")]),
                ),
            } as Json);
        }
        log(
            `control plane ${b.seconds.toFixed(0)} s build (0: cached), started in ${cluster.startSeconds.toFixed(1)} s; ${apply.length} plan objects applied; store and webhook Secrets filled with generated values`,
        );

        // --- the model's git repository and the package mirror (what a cluster's network gives the steps) ---
        const repo = makeRepository(work, models);
        const wheelhouse = ensureWheelhouse();
        const pythonBin = stepPython();
        // The step runtime, built before anything is measured, as `pulumi up` builds it at install time in a cluster.
        const runtime = stepRuntime({ PIP_NO_INDEX: "1", PIP_FIND_LINKS: wheelhouse });
        log(
            `step runtime ${runtime.dir}: ${Object.entries(runtime.seconds)
                .map(([set, sec]) => `${set} ${sec.toFixed(1)} s`)
                .join(", ")} (0: cached)`,
        );
        const modelNamespaces = apply
            .filter((o) => o.object.kind === "Namespace" && o.object.metadata.labels?.[MODEL_LABEL_KEYS.model])
            .map((o) => o.object.metadata.name as string);
        const images = new ImageStore(path.join(work, "images"));
        kubelet = new Kubelet(
            cluster.admin,
            images,
            path.join(python, "bin"),
            path.join(work, "pods"),
            modelNamespaces,
            targetsFile,
        );
        kubelet.start();
        gateway = new Gateway(cluster.admin, GATEWAY_NAMESPACE, (ns) => kubelet!.ip(ns));
        await gateway.listen(ADDRESSES.gateway, 8080);
        const hosts: Record<string, string> = {
            [pg.hostname]: ADDRESSES.pushgateway,
            [pr.hostname]: ADDRESSES.prometheus,
        };
        for (const ns of modelNamespaces) {
            hosts[`model-server.${ns}.svc.cluster.local`] = kubelet.ip(ns);
            hosts[`model-server.${ns}.svc`] = kubelet.ip(ns);
        }
        const settings = await cluster.admin.read<Json>("v1", "ConfigMap", "pipeline-settings", PIPELINES_NAMESPACE);
        const tasks = new Map(
            manifests((o) => o.kind === "Task").map((t) => [t.metadata.name as string, t as unknown as TaskObject]),
        );
        const pipelines = new Map(
            manifests((o) => o.kind === "Pipeline").map((p) => [
                p.metadata.name as string,
                p as unknown as PipelineSpecObject,
            ]),
        );
        const exec = {
            kube: cluster.admin,
            tasks,
            namespace: PIPELINES_NAMESPACE,
            apiServerIp: cluster.ip,
            caFile: cluster.caFile,
            pythonBin,
            hosts,
            extraEnv: {
                // The cluster's git host, as git's URL rewrite. No package index: steps install nothing.
                GIT_CONFIG_COUNT: "1",
                GIT_CONFIG_KEY_0: `url.file://${repo.bare}/.insteadOf`,
                GIT_CONFIG_VALUE_0: `${GIT_HOST}models.git`,
            },
            runtimeDir: runtime.dir,
            images,
            imageRepository: settings.data.IMAGE_REPOSITORY,
            steps,
            logDir: path.join(work, "failed-tasks"),
        };

        let seq = 0;
        const runPipelineRun = async (pipelineRun: Record<string, Json>, trigger: string): Promise<RunRecord> => {
            const pipelineName = pipelineRun.spec.pipelineRef.name as string;
            const name = `${pipelineName}-${String(++seq).padStart(2, "0")}${randomBytes(2).toString("hex")}`;
            const params = Object.fromEntries((pipelineRun.spec.params ?? []).map((p: Json) => [p.name, p.value]));
            // The run's mode and study task: its params, else the Pipeline's defaults (as Tekton resolves them).
            const declared = (n: string) =>
                (pipelines.get(pipelineName)!.spec.params ?? []).find((p) => p.name === n)?.default as
                    string | undefined;
            const mode = params.mode ?? declared("mode") ?? "automated";
            const task = params["study-task"] ?? declared("study-task") ?? "-";
            const wsDir = path.join(work, "workspaces", name);
            fs.mkdirSync(wsDir, { recursive: true });
            const t = Date.now();
            const outcome = await runPipeline(
                pipelines.get(pipelineName)!,
                params,
                { pipelineRunName: name, namespace: PIPELINES_NAMESPACE },
                executorFor(exec, {
                    name,
                    serviceAccounts: serviceAccountsOf(pipelineRun),
                    workspaceDirs: { source: wsDir },
                }),
            );
            fs.rmSync(wsDir, { recursive: true, force: true });
            const rec = {
                name,
                pipeline: pipelineName,
                mode,
                task,
                trigger,
                outcome,
                seconds: (Date.now() - t) / 1000,
            };
            runs.push(rec);
            log(
                `${name} (${trigger}; ${rec.mode}, ${task}): ${outcome.status} in ${rec.seconds.toFixed(0)} s — ` +
                    outcome.tasks.map((x) => `${x.name} ${x.state}${x.reason ? ` (${x.reason})` : ""}`).join(", "),
            );
            return rec;
        };
        /**
         * A PipelineRun as `npm run pipelinerun` prints it, for the stack. A delivery run (every pipeline but
         * `train`) carries the ease and scalability params: one human action (the command) unless the caller says
         * otherwise, one delivery at a time, and as hands-on seconds the time the command took (a script's, not a
         * person's), unless given.
         */
        const pipelineRunOf = (pipeline: string, params: Record<string, string>): Record<string, Json> => {
            const delivery = pipeline !== "train";
            const given = delivery ? { "human-actions": "1", concurrency: "1", ...params } : params;
            const started = Date.now();
            const pr = parseYaml(
                buildRun(
                    [
                        pipeline,
                        "--stack",
                        STUDY_STACK,
                        ...Object.entries(given).flatMap(([k, v]) => ["--param", `${k}=${v}`]),
                    ],
                    projectDir,
                ),
            ) as Record<string, Json>;
            if (delivery && !("hands-on-seconds" in given))
                pr.spec.params = [
                    ...(pr.spec.params as { name: string }[]).filter((p) => p.name !== "hands-on-seconds"),
                    { name: "hands-on-seconds", value: ((Date.now() - started) / 1000).toFixed(1) },
                ];
            return pr;
        };

        // Runs the EventListener starts, in order.
        const fired: FiredRun[] = [];
        const templates = manifests((o) => o.kind === "TriggerTemplate");
        const eventListener = manifests((o) => o.kind === "EventListener")[0];
        listener = new EventListener(
            eventListener,
            { bindings: manifests((o) => o.kind === "TriggerBinding"), templates },
            [
                {
                    metadata: {
                        name: "git-webhook",
                        namespace: String((eventListener.metadata as Record<string, Json>).namespace),
                    },
                    stringData: { secret: webhookSecret },
                },
            ],
            (r) => fired.push(r),
        );
        await listener.listen(ADDRESSES.listener, 8080);
        const scenarioDeps = {
            cluster,
            kubelet: kubelet!,
            runPipelineRun,
            pipelineRunOf,
            fired,
            python,
            storeKeys,
            storeUrl: moto.url,
            pushgatewayUrl: pushgateway.url,
            repo,
            webhookSecret,
            work,
            log,
        };
        const study = new Scenario(scenarioDeps);
        await study.run(short);
        // Scalability: deliver-several-models at each level in each mode, then traffic for every other model.
        const scenarios = models.map((m) => (m === MODEL ? study : new Scenario(scenarioDeps, m)));
        // Each other model's first dataset and v1 build (what its deliveries train on and validate against).
        for (const s of scenarios.slice(1)) await s.registerFirstVersion();
        await deliverSeveralModels(scenarios, levels, DELIVERY_MODES, { repo, log });
        // Labelled traffic for every model after its last delivery (live accuracy, latency, the quality table).
        for (const s of scenarios) await s.traffic(20, { phase: "after the scalability deliveries", labelled: true });
        log(
            `scalability: deliver-several-models at ${levels.join(", ")} at once in every mode` +
                (levels.length < CONCURRENCY_LEVELS.length
                    ? `; not run: ${CONCURRENCY_LEVELS.filter((l) => !levels.includes(l)).join(", ")} at once (--short)`
                    : "") +
                `; models ${models.join(", ")} (each the reference workload pipelines/workload under its own name)`,
        );

        const where = (w: StepRecord["where"]) => steps.filter((s) => s.where === w).length;
        const manualRuns = scenarios.reduce((n, s) => n + s.manualRuns, 0);
        log(
            `${runs.length} pipeline runs, ${manualRuns} manual deliveries; steps: ${where("control plane")} against the control plane (the API steps), ` +
                `${where("this machine")} on this machine, ${where("not run")} not run (buildah: no container engine here)`,
        );
        // What became of every model's traffic (a must-serve phase with a failure has stopped the study already).
        for (const s of scenarios) log(s.trafficLedger.describe());
        const coverage = study.coverage(runs, scenarios);
        for (const line of coverage.lines) log(line);
        // The short study leaves out side-by-side, recover-failed-deployment and the simplified and manual retrains.
        if (!short && coverage.missing.length) throw new Error(`tasks not performed: ${coverage.missing.join(", ")}`);
        // --- the report ---
        await new Promise((r) => setTimeout(r, 5000));
        const since = new Date(T0 - 60_000).toISOString();
        const until = new Date().toISOString();
        const reportAs = (format: string) =>
            spawnSync(
                "npx",
                [
                    "tsx",
                    "tools/report.ts",
                    "--prometheus",
                    prometheus.url,
                    "--since",
                    since,
                    "--until",
                    until,
                    "--format",
                    format,
                    "--scalability-levels",
                    levels.join(","),
                ],
                {
                    cwd: PROJECT_ROOT,
                    encoding: "utf8",
                },
            );
        const report = reportAs("markdown");
        console.log(report.stdout);
        if (report.status !== 0) {
            console.error(report.stderr);
            failed = true;
        }
        if (reportJson) {
            const json = reportAs("json");
            if (json.status !== 0) failed = true;
            fs.writeFileSync(reportJson, json.stdout);
        }
        // Every dashboard query over the same window: data here, or the cluster exporter it needs.
        for (const line of describeOutcomes(
            await checkDashboardQueries(prometheus.url, new Date(since), new Date(until), MODEL),
        ))
            log(line);
        void pushgateway;
    } catch (e) {
        failed = true;
        console.error(`study: ${(e as Error).stack ?? e}`);
    } finally {
        await kubelet?.stop();
        await gateway?.close();
        await listener?.close();
        await services.stop();
        if (cluster) stop(cluster.state);
        log(`stopped every service by PID; work directory ${keep || failed ? `kept: ${work}` : "removed"}`);
        if (!keep && !failed) fs.rmSync(work, { recursive: true, force: true });
    }
    return failed ? 1 : 0;
}

function loadStackFrom(projectDir: string) {
    return loadStack(STUDY_STACK, {}, projectDir);
}

function bashOut(args: string[]): string {
    return sh("bash", args, { cwd: PROJECT_ROOT });
}

function spawnOrThrow(cmd: string, args: string[], env: Record<string, string>): string {
    const r = spawnSync(cmd, args, { encoding: "utf8", env: { ...process.env, ...env } });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
}

const CREATE_BUCKETS = `
import os, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["STORE_ENDPOINT"], region_name="us-east-1")
for b in ("models", "datasets"):
    s3.create_bucket(Bucket=b)
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
`;

/**
 * A bare repository with models/<model>/ = the reference workload for each model, as a user's models repository
 * would hold it.
 */
function makeRepository(work: string, models: readonly string[]): Repo {
    const bare = path.join(work, "git", "models.git");
    const dir = path.join(work, "git", "checkout");
    const src = path.join(PROJECT_ROOT, "pipelines", "workload");
    for (const model of models) {
        fs.mkdirSync(path.join(dir, "models", model), { recursive: true });
        for (const f of fs.readdirSync(src))
            if (f.endsWith(".py") || f === "requirements.txt")
                fs.copyFileSync(path.join(src, f), path.join(dir, "models", model, f));
    }
    const g = (...a: string[]) =>
        sh("git", ["-c", "user.name=study", "-c", "user.email=study@localhost", ...a], { cwd: dir });
    g("init", "-q", "-b", "main");
    g("add", ".");
    g("commit", "-qm", `The models ${models.join(", ")}`);
    sh("git", ["init", "-q", "--bare", "-b", "main", bare]);
    g("push", "-q", bare, "main");
    const commitFiles = (files: Readonly<Record<string, string>>, message: string) => {
        for (const [file, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), content);
        g("add", ...Object.keys(files));
        g("commit", "-qm", message);
        g("push", "-q", bare, "main");
        return {
            sha: g("rev-parse", "HEAD").trim(),
            time: g("log", "-1", "--format=%cI").trim(),
            files: Object.keys(files),
        };
    };
    return {
        bare,
        dir,
        commit(file, content, message) {
            const p = path.join(dir, file);
            return commitFiles(
                { [file]: typeof content === "string" ? content : content(fs.readFileSync(p, "utf8")) },
                message,
            );
        },
        commitFiles,
    };
}

/**
 * The step runtime's packages (its lock and the kube client's closure, RUNTIME_REQUIREMENTS), downloaded once from PyPI
 * without the resolver into a local directory the local runtime is built from (PIP_FIND_LINKS, PIP_NO_INDEX), as a
 * cluster's runtime build fetches them from its package index.
 */
function ensureWheelhouse(): string {
    const files = Object.values(RUNTIME_REQUIREMENTS);
    const py = path.join(stepPython(), "python");
    const key = sh("sh", ["-c", `{ ${py} --version; cat ${files.join(" ")}; } | sha256sum | cut -c1-16`], {
        cwd: PROJECT_ROOT,
    }).trim();
    const cache = cacheRoot();
    const dir = path.join(cache, `study-wheels-${key}`);
    if (!fs.existsSync(path.join(dir, ".complete"))) {
        fs.mkdirSync(dir, { recursive: true });
        const pip = (args: string[]) =>
            sh(py, ["-m", "pip", "download", "--quiet", "--disable-pip-version-check", "-d", dir, ...args], {
                cwd: PROJECT_ROOT,
            });
        // One pip command per set: their pins differ (python-dateutil), and pip refuses two versions in one command.
        for (const f of files) pip(["--no-deps", "-r", f]);
        fs.writeFileSync(path.join(dir, ".complete"), "");
    }
    return dir;
}
