/**
 * The pipelines' API-facing steps run for real, offline: each step's main() (deploy, route, choose-versions and the
 * run pruner in Python with the pinned official client of the project's Python environment, on PYTHONPATH as in the
 * step pods; promote in Node, the script as shipped) against
 * the loopback Kubernetes API of test/kube-api.ts, which holds the objects the dev stack's plan renders (the
 * version's deploy settings, the model routes) and records every request. The environment is the one the Task
 * renders (its step env with params put in, and the pipelines' settings ConfigMap of the plan), except that the
 * client reaches the loopback API through KUBECONFIG.
 *
 * Then RBAC: every recorded call of each service account is checked against the Roles and ClusterRoles the plan
 * binds to it (apiGroups, resources, verbs, resourceNames, namespace), and every grant of those Roles must be used by
 * some call (nothing more is granted than the union of the calls).
 */
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DEPLOY_SETTINGS, GATEWAY_NAMESPACE, PIPELINES_NAMESPACE } from "../contract/names";
import { allTasks } from "../pipelines";
import { LIB_PATH, SETTINGS_CONFIGMAP, ownScript } from "../pipelines/core/context";
import { KUBE_CLIENT_PATH, STEP_RUNTIME_PATH } from "../pipelines/core/runtime";
import type { Step, TaskLike } from "../pipelines/core/tekton";
import type { Plan } from "../tools/mock-runtime";
import { planStack } from "./harness";
import { objectsOfKind, type K8sObject } from "./k8s-objects";
import { type ApiCall, KubeApi } from "./kube-api";
import { ALERTS, PROMOTION, loadShippedStep, taskEnv } from "./promotion-harness";
import { STEP_LIBRARY, kubeClientPath, python, sitePackages } from "./python";
import type { Json } from "./json";

const PINNED = `registry.example/model-server:abc1234@sha256:${"a".repeat(64)}`;

interface StepRun {
    readonly code: number | null;
    readonly stdout: string;
    readonly stderr: string;
}

/** The env of one step of a Task, as Tekton gives it: settings (envFrom), then the step's env with params put in. */
function stepEnv(
    task: TaskLike,
    step: Step,
    params: Record<string, string>,
    settings: Record<string, string>,
    results: string,
): Record<string, string> {
    const defaults = Object.fromEntries((task.spec.params ?? []).map((p) => [p.name, p.default]));
    const all: Record<string, string | undefined> = { ...defaults, ...params };
    const put = (v: string) =>
        v
            .replace(/\$\(params\.([a-z-]+)\)/g, (_, k: string) => {
                assert.ok(all[k] !== undefined, `${task.metadata.name}: param ${k} has no value`);
                return all[k]!;
            })
            .replace(/\$\(results\.([a-z-]+)\.path\)/g, (_, r: string) => path.join(results, r));
    const env: Record<string, string> = { ...settings };
    for (const e of step.env ?? []) {
        assert.ok(e.value !== undefined, `${task.metadata.name}/${step.name}: env ${e.name} has a value`);
        env[e.name] = put(e.value);
    }
    env.PYTHONPATH = localPythonPath(env.PYTHONPATH, `${task.metadata.name}/${step.name}`);
    // The deploy step polls the rollout every 5 s in a cluster; the loopback API answers at once.
    env.ROLLOUT_POLL_SECONDS = "0.05";
    return env;
}

/**
 * A pod's PYTHONPATH with the library and the runtime's package sets where this repository and the Python environment
 * have them (the Task mounts the library at LIB_PATH; the runtime image holds the client at KUBE_CLIENT_PATH and the
 * other packages at STEP_RUNTIME_PATH, which here are the environment's own site-packages), entry for entry: a step
 * whose PYTHONPATH lacks the client cannot import it here either.
 */
function localPythonPath(podPath: string | undefined, what: string): string {
    const local: Record<string, string> = {
        [LIB_PATH]: STEP_LIBRARY,
        [KUBE_CLIENT_PATH]: kubeClientPath(),
        [STEP_RUNTIME_PATH]: sitePackages(),
    };
    const entries = podPath?.split(":") ?? [];
    assert.ok(entries.includes(LIB_PATH), `${what}: the step imports the pipeline library`);
    return entries
        .map((e) => {
            assert.ok(local[e], `${what}: PYTHONPATH entry ${e} is neither the library nor a runtime package set`);
            return local[e];
        })
        .join(":");
}

/** Runs Python with `args` (a step's script as the Task ships it: -c <script>), with the loopback API's kubeconfig. */
function runPython(args: readonly string[], env: Record<string, string>, kubeconfig: string): Promise<StepRun> {
    return new Promise((resolve, reject) => {
        const child = spawn(python(), [...args], {
            env: { PATH: process.env.PATH ?? "", HOME: os.tmpdir(), ...env, KUBECONFIG: kubeconfig },
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (c) => (stdout += c));
        child.stderr.on("data", (c) => (stderr += c));
        const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
        child.on("error", reject);
        child.on("close", (code) => {
            clearTimeout(timer);
            resolve({ code, stdout, stderr });
        });
    });
}

describe("API-facing steps run against a recording Kubernetes API (dev stack)", function () {
    this.timeout(240_000);
    let plan: Plan;
    let tasks: TaskLike[];
    let settings: Record<string, string>;
    let routes: Record<string, string>;
    let dir: string;
    /** Every call, by the service account whose token made it. */
    const callsBy: Record<string, ApiCall[]> = { deployer: [], "run-pruner": [] };
    const runs: Record<string, StepRun> = {};

    const api = () => new KubeApi();
    const seedFromPlan = (k: KubeApi) => {
        for (const cm of objectsOfKind(plan, "ConfigMap"))
            if (cm.metadata.name === DEPLOY_SETTINGS.configMap) k.seed(cm);
        for (const r of objectsOfKind(plan, "HTTPRoute", GATEWAY_NAMESPACE)) k.seed(r);
    };
    const task = (name: string) => tasks.find((t) => t.metadata.name === name)!;
    /** Runs every Python step of a Task, in order, as Tekton does; stops at a failure. */
    async function runTask(
        k: KubeApi,
        name: string,
        params: Record<string, string>,
        sa: string,
        label: string,
    ): Promise<{ run: StepRun; results: string }> {
        const t = task(name);
        const results = fs.mkdtempSync(path.join(dir, `${label}-`));
        const kubeconfig = k.writeKubeconfig(results);
        let run: StepRun = { code: 0, stdout: "", stderr: "" };
        for (const step of t.spec.steps as readonly Step[]) {
            if (step.name.startsWith("stage-")) continue;
            // The step's own script, without the usage wrapper around it (pipelines/lib/step-usage.spec.ts runs that).
            run = await runPython(
                ["-c", ownScript(step.script!)],
                stepEnv(t, step, params, settings, results),
                kubeconfig,
            );
            if (run.code !== 0) break;
        }
        callsBy[sa].push(...k.calls);
        runs[label] = run;
        return { run, results };
    }

    before(async function () {
        plan = await planStack("dev");
        tasks = allTasks({ promotion: PROMOTION, alerts: ALERTS });
        const settingsCm = objectsOfKind(plan, "ConfigMap", PIPELINES_NAMESPACE).find(
            (o) => o.metadata.name === SETTINGS_CONFIGMAP,
        )!;
        settings = settingsCm.data as Record<string, string>;
        routes = JSON.parse(settings.MODEL_ROUTES);
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "api-steps-"));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("the pipelines' settings name each configured model's route (MODEL_ROUTES), and those routes exist", () => {
        const planned = objectsOfKind(plan, "HTTPRoute", GATEWAY_NAMESPACE).map((r) => r.metadata.name);
        assert.deepEqual(Object.keys(routes).sort(), ["digits", "iris"]);
        for (const name of Object.values(routes)) assert.ok(planned.includes(name), name);
    });

    it("deploy: first rollout of iris-v2 takes replicas, GPUs, HPA maximum and resources from its deploy settings, applies with create, waits for the rollout", async () => {
        const k = api();
        await k.start();
        try {
            seedFromPlan(k);
            const { run } = await runTask(
                k,
                "deploy",
                { model: "iris", version: "v2", image: PINNED, mode: "automated", pipeline: "deploy" },
                "deployer",
                "deploy-first",
            );
            assert.equal(run.code, 0, run.stderr);
            assert.match(run.stdout, /rolled out/);
            const d = k.object("apps/v1", "Deployment", "iris-v2", "model-server")!;
            const cm = k.object("v1", "ConfigMap", "iris-v2", DEPLOY_SETTINGS.configMap)!;
            // dev: iris v2 has replicas 1 (default), gpu 1 — the Task's params are empty, the settings decide.
            assert.equal(cm.data.replicas, "1");
            assert.equal(cm.data.gpu, "1");
            assert.equal(d.spec.replicas, 1);
            const server = d.spec.template.spec.containers[0];
            assert.equal(server.resources.limits["nvidia.com/gpu"], "1");
            assert.deepEqual(server.resources.requests, JSON.parse(cm.data["pod-resources"]).server.requests);
            // A GPU version replaces pods one at a time: a surge pod would need a GPU the quota never admits.
            assert.deepEqual(d.spec.strategy.rollingUpdate, { maxSurge: 0, maxUnavailable: 1 });
            const hpa = k.object("autoscaling/v2", "HorizontalPodAutoscaler", "iris-v2", "model-server")!;
            assert.equal(hpa.spec.maxReplicas, Number(cm.data["max-replicas"]));
            assert.equal(hpa.spec.maxReplicas, 1, "quota gpu 1 / 1 GPU per replica");
            const verbs = k.resourceCalls().map((c) => `${c.verb} ${c.resource}/${c.name}`);
            assert.deepEqual([...new Set(verbs)].sort(), [
                "create deployments/model-server",
                "create horizontalpodautoscalers/model-server",
                "create poddisruptionbudgets/model-server",
                "get configmaps/model-server-deploy",
                "get deployments/model-server",
                "patch deployments/model-server",
                "patch horizontalpodautoscalers/model-server",
                "patch poddisruptionbudgets/model-server",
            ]);
            assert.ok(
                k.resourceCalls().filter((c) => c.verb === "get" && c.resource === "deployments").length >= 2,
                "waits until the Deployment reports rolled out",
            );
            assert.ok(
                k.calls.every((c) => c.token === k.token),
                "every call carries the kubeconfig's token",
            );
        } finally {
            await k.stop();
        }
    });

    it("deploy: a CPU version surges within its quota, a replicas param overrides the settings, and a redeploy patches only", async () => {
        const k = api();
        await k.start();
        try {
            seedFromPlan(k);
            const params = { model: "digits", version: "v1", image: PINNED, mode: "automated", pipeline: "deploy" };
            const first = await runTask(k, "deploy", params, "deployer", "deploy-cpu");
            assert.equal(first.run.code, 0, first.run.stderr);
            const d = k.object("apps/v1", "Deployment", "digits-v1", "model-server")!;
            assert.deepEqual(d.spec.strategy.rollingUpdate, { maxSurge: 1, maxUnavailable: 0 });
            assert.equal(d.spec.template.spec.containers[0].resources.limits["nvidia.com/gpu"], undefined);
            // digits v1: quota cpu "2", memory 8Gi → 8 pods by CPU, 8 by memory limit; 3 × 1 replica fits.
            assert.equal(
                k.object("autoscaling/v2", "HorizontalPodAutoscaler", "digits-v1", "model-server")!.spec.maxReplicas,
                3,
            );
            k.calls.length = 0;
            const again = await runTask(k, "deploy", { ...params, replicas: "2" }, "deployer", "deploy-again");
            assert.equal(again.run.code, 0, again.run.stderr);
            assert.equal(k.object("apps/v1", "Deployment", "digits-v1", "model-server")!.spec.replicas, 2);
            assert.equal(
                k.resourceCalls().filter((c) => c.verb === "create").length,
                0,
                "objects that exist are patched, not created",
            );
        } finally {
            await k.stop();
        }
    });

    it("deploy: refuses an image not pinned by digest before any API call", async () => {
        const k = api();
        await k.start();
        try {
            seedFromPlan(k);
            const { run } = await runTask(
                k,
                "deploy",
                { model: "iris", version: "v2", image: "registry.example/model-server:latest", pipeline: "simplified" },
                "deployer",
                "deploy-unpinned",
            );
            assert.equal(run.code, 1);
            assert.match(run.stderr, /image 'registry.example\/model-server:latest' is not pinned by digest/);
            assert.deepEqual(k.calls, []);
        } finally {
            await k.stop();
        }
    });

    it("choose-versions: reads each model's route by name and writes the choice", async () => {
        const k = api();
        await k.start();
        try {
            seedFromPlan(k);
            const iris = await runTask(k, "choose-versions", { model: "iris" }, "deployer", "choose-iris");
            assert.equal(iris.run.code, 0, iris.run.stderr);
            const result = (r: string) => fs.readFileSync(path.join(iris.results, r), "utf8");
            // dev: iris is a canary with v1 90, v2 10: the standby slot v2 against v1, progressively.
            assert.deepEqual(["version", "baseline", "strategy", "rollout"].map(result), [
                "v2",
                "v1",
                "canary",
                "progressive",
            ]);
            const digits = await runTask(k, "choose-versions", { model: "digits" }, "deployer", "choose-digits");
            assert.equal(digits.run.code, 0, digits.run.stderr);
            assert.equal(fs.readFileSync(path.join(digits.results, "rollout"), "utf8"), "in-place");
            assert.deepEqual(
                k.resourceCalls().map((c) => `${c.verb} ${c.namespace}/${c.resource}/${c.name}`),
                [`get gateway/httproutes/${routes.iris}`, `get gateway/httproutes/${routes.digits}`],
            );
        } finally {
            await k.stop();
        }
    });

    it("choose-versions: a failed choice still writes every result (the finally report needs them) and fails", async () => {
        const k = api();
        await k.start();
        try {
            // No route in the API (deleted, or pulumi up not finished): the get answers 404.
            const { run, results } = await runTask(k, "choose-versions", { model: "iris" }, "deployer", "choose-404");
            assert.equal(run.code, 1);
            assert.match(run.stderr, /choose-versions: get HTTPRoute gateway\/iris-[0-9a-f]{8}: 404/);
            const written = Object.fromEntries(
                ["version", "baseline", "strategy", "rollout"].map((r) => [
                    r,
                    fs.readFileSync(path.join(results, r), "utf8"),
                ]),
            );
            assert.deepEqual(written, { version: "none", baseline: "", strategy: "", rollout: "none" });
            const asked = await runTask(
                k,
                "choose-versions",
                { model: "churn", version: "v3", strategy: "canary" },
                "deployer",
                "choose-unknown",
            );
            assert.equal(asked.run.code, 1);
            assert.match(asked.run.stderr, /model churn has no route \(digits, iris have\)/);
            assert.equal(fs.readFileSync(path.join(asked.results, "version"), "utf8"), "v3");
            assert.equal(fs.readFileSync(path.join(asked.results, "strategy"), "utf8"), "canary");
        } finally {
            await k.stop();
        }
    });

    it("route: sends all of iris's traffic to v2 with a merge patch guarded by the route's resourceVersion", async () => {
        const k = api();
        await k.start();
        try {
            seedFromPlan(k);
            const before = k.object("gateway.networking.k8s.io/v1", "HTTPRoute", GATEWAY_NAMESPACE, routes.iris)!;
            const { run } = await runTask(
                k,
                "route",
                { model: "iris", version: "v2", strategy: "single", pipeline: "rollback" },
                "deployer",
                "route",
            );
            assert.equal(run.code, 0, run.stderr);
            const after = k.object("gateway.networking.k8s.io/v1", "HTTPRoute", GATEWAY_NAMESPACE, routes.iris)!;
            const weights = Object.fromEntries(
                after.spec.rules[0].backendRefs.map((b: Json) => [b.namespace, b.weight]),
            );
            assert.deepEqual(weights, { "iris-v1": 0, "iris-v2": 100 });
            assert.notEqual(after.metadata.resourceVersion, before.metadata.resourceVersion);
            assert.deepEqual(
                k.resourceCalls().map((c) => `${c.verb} ${c.name}`),
                [`get ${routes.iris}`, `patch ${routes.iris}`],
            );
            // digits (single, one version): the same call on its own route.
            const digits = await runTask(
                k,
                "route",
                { model: "digits", version: "v1", strategy: "single", pipeline: "deploy" },
                "deployer",
                "route-digits",
            );
            assert.equal(digits.run.code, 0, digits.run.stderr);
        } finally {
            await k.stop();
        }
    });

    it("promote (the shipped Node step): steps iris's canary weights on its route by name and promotes", async () => {
        const k = api();
        await k.start();
        const prometheus = await fakePrometheus();
        try {
            seedFromPlan(k);
            const step = loadShippedStep(fs.mkdtempSync(path.join(dir, "promote-")));
            const results = fs.mkdtempSync(path.join(dir, "promote-results-"));
            const env = {
                ...taskEnv(
                    { model: "iris", "candidate-version": "v2", "baseline-version": "v1", strategy: "canary" },
                    { MODEL_ROUTES: settings.MODEL_ROUTES },
                    { ...PROMOTION, analysisIntervalSeconds: 0 },
                ),
                PROMETHEUS_URL: prometheus.url,
                PUSHGATEWAY_URL: prometheus.url,
                KUBECONFIG: k.writeKubeconfig(results),
                RESULT_DECISION_PATH: path.join(results, "decision"),
                RESULT_REASON_PATH: path.join(results, "reason"),
            };
            const log = console.log;
            console.log = () => undefined;
            try {
                await step.main(env);
            } finally {
                console.log = log;
            }
            assert.equal(fs.readFileSync(env.RESULT_DECISION_PATH, "utf8"), "promote");
            const route = k.object("gateway.networking.k8s.io/v1", "HTTPRoute", GATEWAY_NAMESPACE, routes.iris)!;
            const weights = Object.fromEntries(
                route.spec.rules[0].backendRefs.map((b: Json) => [b.namespace, b.weight]),
            );
            assert.deepEqual(weights, { "iris-v1": 0, "iris-v2": 100 });
            const calls = k.resourceCalls().map((c) => `${c.verb} ${c.name}`);
            // One read and one patch per canary step (10, 25, 50, 100).
            assert.deepEqual(
                calls,
                PROMOTION.canarySteps.flatMap(() => [`get ${routes.iris}`, `patch ${routes.iris}`]),
            );
            callsBy.deployer.push(...k.calls);
        } finally {
            await k.stop();
            await prometheus.stop();
        }
    });

    it("run pruner: lists finished runs and deletes all but the newest keepRuns per pipeline", async () => {
        const k = api();
        await k.start();
        try {
            for (let i = 0; i < 4; i++)
                k.seed({
                    apiVersion: "tekton.dev/v1",
                    kind: "PipelineRun",
                    metadata: {
                        name: `train-${i}`,
                        namespace: PIPELINES_NAMESPACE,
                        labels: { "tekton.dev/pipeline": "train" },
                        creationTimestamp: `2026-11-2${i}T10:00:00Z`,
                    },
                    status: { completionTime: `2026-11-2${i}T11:00:00Z` },
                });
            const cron = objectsOfKind(plan, "CronJob", PIPELINES_NAMESPACE).find(
                (c) => c.metadata.name === "run-pruner",
            )!;
            const container = cron.spec.jobTemplate.spec.template.spec.containers[0];
            const env = Object.fromEntries(container.env.map((e: Json) => [e.name, e.value]));
            assert.equal(env.KEEP_RUNS, "20");
            const results = fs.mkdtempSync(path.join(dir, "prune-"));
            // The container's own command (python -m mlops_steps.prune) with its PYTHONPATH (library and client).
            const [interpreter, ...args] = container.command as string[];
            assert.equal(interpreter, "python");
            const run = await runPython(
                args,
                { ...env, KEEP_RUNS: "1", PYTHONPATH: localPythonPath(env.PYTHONPATH, "run-pruner") },
                k.writeKubeconfig(results),
            );
            assert.equal(run.code, 0, run.stderr);
            assert.deepEqual(
                k.objectsOf("tekton.dev/v1", "PipelineRun", PIPELINES_NAMESPACE).map((r) => r.metadata.name),
                ["train-3"],
            );
            callsBy["run-pruner"].push(...k.calls);
            runs.prune = run;
        } finally {
            await k.stop();
        }
    });

    describe("RBAC of the steps' service accounts (the dev plan's Roles and bindings)", () => {
        /** system:discovery, bound to every authenticated user by the apiserver's default policy. */
        const DISCOVERY_PATHS = [/^\/api$/, /^\/api\/.*/, /^\/apis$/, /^\/apis\/.*/, /^\/version\/?$/];

        interface Grant {
            readonly role: string;
            readonly namespace: string | null;
            readonly rule: { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] };
        }

        /** The rules bound to a service account: Roles through RoleBindings, ClusterRoles through either binding. */
        function grantsOf(sa: { namespace: string; name: string }): Grant[] {
            const subjectIs = (b: K8sObject) =>
                (b.subjects ?? []).some(
                    (s: Json) => s.kind === "ServiceAccount" && s.name === sa.name && s.namespace === sa.namespace,
                );
            const roles = objectsOfKind(plan, "Role");
            const clusterRoles = objectsOfKind(plan, "ClusterRole");
            const out: Grant[] = [];
            for (const b of [...objectsOfKind(plan, "RoleBinding"), ...objectsOfKind(plan, "ClusterRoleBinding")]) {
                if (!subjectIs(b)) continue;
                const ns = b.kind === "RoleBinding" ? (b.metadata.namespace ?? null) : null;
                const role =
                    b.roleRef.kind === "Role"
                        ? roles.find((r) => r.metadata.name === b.roleRef.name && r.metadata.namespace === ns)
                        : clusterRoles.find((r) => r.metadata.name === b.roleRef.name);
                assert.ok(role, `${b.kind} ${ns}/${b.metadata.name} refers to a ${b.roleRef.kind} the plan has`);
                for (const rule of role.rules ?? [])
                    out.push({ role: `${role.kind} ${ns}/${role.metadata.name}`, namespace: ns, rule });
            }
            return out;
        }

        const has = (list: string[] | undefined, v: string) => (list ?? []).includes(v) || (list ?? []).includes("*");
        /** Whether one grant allows a resource call, as the RBAC authorizer decides. */
        const allows = (g: Grant, c: ApiCall) =>
            (g.namespace === null || g.namespace === c.namespace) &&
            has(g.rule.apiGroups, c.apiGroup) &&
            has(g.rule.resources, c.subresource ? `${c.resource}/${c.subresource}` : c.resource) &&
            has(g.rule.verbs, c.verb) &&
            ((g.rule.resourceNames ?? []).length === 0 || g.rule.resourceNames!.includes(c.name));

        for (const sa of [
            { namespace: PIPELINES_NAMESPACE, name: "deployer" },
            { namespace: PIPELINES_NAMESPACE, name: "run-pruner" },
        ]) {
            it(`${sa.name}: every call the steps made is allowed by its bound Roles (discovery by system:discovery)`, () => {
                const calls = callsBy[sa.name];
                assert.ok(calls.length > 0, "the step scenarios above ran");
                const grants = grantsOf(sa);
                for (const c of calls) {
                    if (!c.resourceRequest) {
                        assert.ok(
                            c.verb === "get" && DISCOVERY_PATHS.some((p) => p.test(c.path)),
                            `${c.verb} ${c.path} is a discovery read`,
                        );
                        continue;
                    }
                    assert.ok(
                        grants.some((g) => allows(g, c)),
                        `${c.verb} ${c.apiGroup || "core"}/${c.resource} ${c.namespace}/${c.name} is allowed by none of: ${grants.map((g) => g.role).join(", ")}`,
                    );
                }
            });

            it(`${sa.name}: its Roles grant nothing the steps did not call (no wildcard, every verb, resource and resourceName used)`, () => {
                const calls = callsBy[sa.name].filter((c) => c.resourceRequest);
                const grants = grantsOf(sa);
                assert.ok(grants.length > 0);
                for (const g of grants) {
                    const r = g.rule;
                    for (const list of [r.apiGroups, r.resources, r.verbs, r.resourceNames ?? []])
                        assert.ok(!list.includes("*"), `${g.role}: no wildcard`);
                    // The same Role is stamped into every model namespace and the calls ran in some of them: a grant is
                    // used when a call matches it in any namespace holding that Role.
                    for (const group of r.apiGroups)
                        for (const resource of r.resources)
                            for (const verb of r.verbs)
                                for (const name of r.resourceNames?.length ? r.resourceNames : [undefined]) {
                                    const used = calls.some(
                                        (c) =>
                                            c.apiGroup === group &&
                                            c.resource === resource &&
                                            c.verb === verb &&
                                            (name === undefined || c.name === name),
                                    );
                                    assert.ok(
                                        used,
                                        `${g.role} grants ${verb} ${group || "core"}/${resource}${name ? `/${name}` : ""}, which no step calls`,
                                    );
                                }
                }
            });
        }

        it("deployer: may not touch Services, other ConfigMaps, the webhook route or any Secret", () => {
            const grants = grantsOf({ namespace: PIPELINES_NAMESPACE, name: "deployer" });
            const call = (over: Partial<ApiCall>): ApiCall => ({
                verb: "patch",
                resourceRequest: true,
                path: "",
                apiGroup: "",
                apiVersion: "v1",
                resource: "services",
                subresource: "",
                namespace: "iris-v1",
                name: "model-server",
                token: "",
                status: 0,
                ...over,
            });
            const forbidden = [
                call({}),
                call({ verb: "create", name: "exposed" }),
                call({ resource: "configmaps", name: "other-settings" }),
                call({ resource: "configmaps", name: DEPLOY_SETTINGS.configMap }),
                call({ resource: "secrets", verb: "get", name: "model-server-store-credentials" }),
                call({
                    apiGroup: "gateway.networking.k8s.io",
                    resource: "httproutes",
                    namespace: GATEWAY_NAMESPACE,
                    name: "git-webhook",
                }),
                call({
                    apiGroup: "gateway.networking.k8s.io",
                    resource: "httproutes",
                    namespace: GATEWAY_NAMESPACE,
                    verb: "list",
                    name: "",
                }),
                call({ apiGroup: "apps", resource: "deployments", name: "other-app", verb: "create" }),
            ];
            for (const c of forbidden)
                assert.ok(
                    !grants.some((g) => allows(g, c)),
                    `${c.verb} ${c.resource} ${c.namespace}/${c.name} is refused`,
                );
        });
    });
});

/** Prometheus answering every instant query with one healthy sample, and a Pushgateway accepting pushes. */
async function fakePrometheus(): Promise<{ url: string; stop: () => Promise<void> }> {
    const http = await import("node:http");
    const values: Record<string, number> = {
        requests: 3,
        errors: 0,
        duration: 0.05,
        accuracy: 0.97,
    };
    const server = http.createServer((req, res) => {
        const q = new URL(req.url ?? "/", "http://x").searchParams.get("query") ?? "";
        const v = q.includes("error")
            ? values.errors
            : q.includes("duration")
              ? values.duration
              : q.includes("accuracy")
                ? values.accuracy
                : values.requests;
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(
            JSON.stringify({
                status: "success",
                data: { resultType: "vector", result: [{ metric: {}, value: [0, String(v)] }] },
            }),
        );
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as import("node:net").AddressInfo).port;
    return { url: `http://127.0.0.1:${port}`, stop: () => new Promise((r) => server.close(() => r())) };
}
