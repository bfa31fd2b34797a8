/**
 * The cluster tier (`npm run test:cluster`): real upstream Kubernetes judges every stack's cluster layer. For each
 * stack a fresh control plane (tools/cluster) gets the add-ons' CRDs from their Go modules, the stack's node pools as
 * kwok nodes, and every Kubernetes object of the stack's offline plan, in dependency order, by server-side apply;
 * then the real components decide the negative cases and the pipelines' API-facing steps run with their own tokens.
 * Not part of `npm test` (it builds and starts a control plane); see docs/local-cluster.md.
 */
import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import {
    MODEL_LABEL_KEYS,
    PIPELINE_SERVICE_ACCOUNTS,
    PIPELINES_NAMESPACE,
    GATEWAY_NAMESPACE,
} from "../../contract/names";
import { validateStackConfig, type TestbedConfig } from "../../infra/config";
import { addNodes, build, installCrds, start, stop, type Cluster } from "../../tools/cluster/control-plane";
import { UNAVAILABLE_CRDS } from "../../tools/cluster/crds";
import { Kube, apiMessage, waitFor, type KubernetesObject } from "../../tools/cluster/kube";
import { nodePools, type NodePool } from "../../tools/cluster/nodes";
import {
    planObjects,
    planStack,
    stackVariant,
    type PlannedObject,
    type Skipped,
    type StackPlan,
} from "../../tools/cluster/plan-objects";
import { figures, recordBuild, renderReport } from "../../tools/cluster/report";
import { startMonitoring, pushGauges, type Monitoring } from "../../tools/cluster/monitoring";
import { stepsFor, type Strategy } from "../../pipelines/promotion/decide";
import { RECORDED } from "../../contract/metric-contract";
import { runTask, stepPython, stepRuntime, type TaskResult, type TaskObject } from "../../tools/cluster/step-runner";
import { loadStack } from "../../tools/stack";
import { ROLE_LABEL } from "../../pipelines/core/context";
import type { Json } from "../../contract/json";

const STACKS = ["dev", "prod", "azure-example", "existing-example"] as const;
const WORK = fs.mkdtempSync(path.join(os.tmpdir(), "mlops-cluster-"));
const skippedByStack = new Map<string, Skipped[]>();

function stackConfig(stack: string): TestbedConfig {
    const { config, secretKeys } = loadStack(stack);
    const v = validateStackConfig(config, secretKeys);
    if (!v.config) throw new Error(`${stack}: invalid config: ${JSON.stringify(v.issues)}`);
    return v.config;
}

/** The identity a service account's token authenticates as. */
function saUser(namespace: string, name: string) {
    return {
        user: `system:serviceaccount:${namespace}:${name}`,
        groups: ["system:serviceaccounts", `system:serviceaccounts:${namespace}`, "system:authenticated"],
    };
}

interface Access {
    verb: string;
    name?: string;
    resource: string;
    group?: string;
    namespace?: string;
    subresource?: string;
}

async function allowed(kube: Kube, who: { user: string; groups: string[] }, a: Access): Promise<boolean> {
    const res = await kube.authorization.createSubjectAccessReview({
        body: {
            apiVersion: "authorization.k8s.io/v1",
            kind: "SubjectAccessReview",
            spec: {
                user: who.user,
                groups: who.groups,
                resourceAttributes: {
                    verb: a.verb,
                    resource: a.resource,
                    group: a.group ?? "",
                    namespace: a.namespace,
                    subresource: a.subresource,
                    name: a.name,
                },
            },
        },
    });
    return res.status?.allowed === true;
}

const fmt = (a: Access) =>
    (a.name ? `${a.name}: ` : "") +
    `${a.verb} ${a.group ? `${a.group}/` : ""}${a.resource}${a.subresource ? `/${a.subresource}` : ""}${a.namespace ? ` in ${a.namespace}` : " cluster-wide"}`;

/** A Kube client authenticated with a bearer token (a service account's TokenRequest token). */
function tokenClient(cluster: Cluster, token: string): Promise<Kube> {
    const file = path.join(cluster.state, `token-${Math.random().toString(36).slice(2)}.kubeconfig`);
    fs.writeFileSync(
        file,
        JSON.stringify({
            apiVersion: "v1",
            kind: "Config",
            clusters: [
                {
                    name: "local",
                    cluster: { server: `https://${cluster.ip}:443`, "certificate-authority": cluster.caFile },
                },
            ],
            users: [{ name: "sa", user: { token } }],
            contexts: [{ name: "sa", context: { cluster: "local", user: "sa" } }],
            "current-context": "sa",
        }),
    );
    return Kube.connect(file);
}

async function saToken(kube: Kube, namespace: string, name: string): Promise<string> {
    const res = await kube.core.createNamespacedServiceAccountToken({
        name,
        namespace,
        body: { spec: { audiences: [], expirationSeconds: 600 } },
    });
    return res.status!.token;
}

/** Asserts that a call is refused by the API with `code` and a message matching `pattern`. */
async function refused(call: Promise<unknown>, code: number, pattern: RegExp): Promise<string> {
    try {
        await call;
    } catch (e) {
        const msg = apiMessage(e);
        assert.ok(msg.startsWith(`${code} `), `expected ${code}, got: ${msg}`);
        assert.match(msg, pattern);
        return msg;
    }
    assert.fail(`expected a ${code} refusal matching ${pattern}, but the API accepted it`);
}

/** A pod that passes Pod Security `restricted`, with the given requests. */
function restrictedPod(
    namespace: string,
    name: string,
    extra: { gpus?: number; scheduling?: { nodeSelector: Record<string, string>; tolerations: object[] } } = {},
): KubernetesObject {
    const limits: Record<string, string> = { memory: "64Mi" };
    if (extra.gpus) limits["nvidia.com/gpu"] = String(extra.gpus);
    return {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace },
        spec: {
            automountServiceAccountToken: false,
            securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: "RuntimeDefault" } },
            containers: [
                {
                    name: "main",
                    image: "registry.k8s.io/pause:3.10",
                    resources: { requests: { cpu: "10m", memory: "64Mi" }, limits },
                    securityContext: {
                        allowPrivilegeEscalation: false,
                        capabilities: { drop: ["ALL"] },
                        readOnlyRootFilesystem: true,
                    },
                },
            ],
            ...(extra.scheduling
                ? { nodeSelector: extra.scheduling.nodeSelector, tolerations: extra.scheduling.tolerations }
                : {}),
        },
    };
}

before(function () {
    this.timeout(90 * 60_000);
    const b = build();
    recordBuild(b.lines, b.seconds);
});

after(() => {
    console.log(renderReport());
    for (const [stack, skipped] of skippedByStack) {
        if (skipped.length === 0) continue;
        console.log(`\n${stack}: ${skipped.length} planned objects not applied:`);
        const byReason = new Map<string, string[]>();
        for (const s of skipped) byReason.set(s.reason, [...(byReason.get(s.reason) ?? []), s.object]);
        for (const [reason, objects] of byReason) console.log(`  ${objects.length} (${reason}): ${objects.join(", ")}`);
    }
    console.log(
        `\nCRDs not available from the Go module proxy:\n${UNAVAILABLE_CRDS.map((u) => `  ${u.name}: ${u.error}`).join("\n")}`,
    );
    const failed = [...STACKS].some((st) => figures(st).checksFailed > 0);
    if (failed) console.log(`\nLogs and state of the failed run kept in ${WORK}`);
    else fs.rmSync(WORK, { recursive: true, force: true });
});

for (const stack of STACKS) {
    describe(`stack ${stack} on a real control plane`, function () {
        this.timeout(10 * 60_000);
        const f = figures(stack);
        let plan: StackPlan;
        let cluster: Cluster | undefined;
        let objects: PlannedObject[];
        let pools: NodePool[];
        let modelNamespaces: { name: string; model: string; version: string; gpu: number }[];

        before(async function () {
            plan = planStack(stack, path.join(WORK, "plan"));
            const p = planObjects(plan);
            objects = p.apply;
            skippedByStack.set(stack, p.skipped);
            f.objectsSkipped = p.skipped.length;
            pools = nodePools(plan.cloud, plan.resources, stackConfig(stack));
            modelNamespaces = objects
                .filter((o) => o.object.kind === "Namespace" && o.object.metadata.labels?.[MODEL_LABEL_KEYS.model])
                .map((o) => ({
                    name: o.object.metadata.name,
                    model: o.object.metadata.labels[MODEL_LABEL_KEYS.model],
                    version: o.object.metadata.labels[MODEL_LABEL_KEYS.version],
                    gpu: Number(o.object.metadata.annotations?.["mlops-testbed/gpu"] ?? 0),
                }));
            cluster = await start(path.join(WORK, stack));
            f.startSeconds = cluster.startSeconds;
            const t0 = Date.now();
            const crds = await installCrds(cluster.admin);
            f.crdSeconds = (Date.now() - t0) / 1000;
            f.crds = crds.reduce((n, c) => n + c.crds, 0);
            f.nodes = (await addNodes(cluster.admin, pools)).length;
        });

        after(() => {
            if (cluster) stop(cluster.state);
        });

        afterEach(function () {
            if (this.currentTest?.state === "passed") f.checksPassed++;
            else if (this.currentTest?.state === "failed") f.checksFailed++;
        });

        it("accepts every planned object, in the plan's dependency order, by server-side apply and without a warning", async () => {
            const t0 = Date.now();
            const problems: string[] = [];
            for (const o of objects) {
                try {
                    await cluster!.admin.apply(o.object as Json);
                    f.objectsApplied++;
                } catch (e) {
                    problems.push((e as Error).message);
                }
            }
            f.applySeconds = (Date.now() - t0) / 1000;
            assert.deepEqual(problems, [], `${problems.length} of ${objects.length} objects refused or warned about`);
            assert.ok(objects.length > 50, `only ${objects.length} objects planned`);
        });

        it("runs the nodes as the platform builds them: GPU nodes with the GPU label, taint and nvidia.com/gpu, the system pool without", async () => {
            const nodes = await cluster!.admin.list<Json>("v1", "Node");
            const gpuPools = pools.filter((p) => p.role === "gpu");
            assert.ok(gpuPools.length > 0, "a stack without GPU pools");
            for (const pool of pools) {
                const mine = nodes.filter(
                    (n) =>
                        Object.entries(pool.labels).every(([k, v]) => n.metadata.labels?.[k] === v) &&
                        n.metadata.name.startsWith(pool.name.replace(/[^a-z0-9-]/g, "-")),
                );
                assert.equal(mine.length, pool.nodes, `${pool.name}: ${mine.length} nodes, expected ${pool.nodes}`);
                for (const n of mine) {
                    assert.ok(
                        n.status.conditions.some((c: Json) => c.type === "Ready" && c.status === "True"),
                        `${n.metadata.name} not Ready`,
                    );
                    assert.equal(
                        n.status.allocatable["nvidia.com/gpu"],
                        pool.role === "gpu" ? String(pool.gpusPerNode) : undefined,
                    );
                    const hasGpuTaint = (n.spec.taints ?? []).some(
                        (t: Json) => t.key === "nvidia.com/gpu" && t.effect === "NoSchedule",
                    );
                    assert.equal(hasGpuTaint, pool.role === "gpu", `${n.metadata.name}: GPU taint`);
                }
            }
        });

        it("schedules the plan's Deployments on system nodes, where kwok reports their pods Running and Ready", async () => {
            const deployments = objects.filter((o) => o.object.kind === "Deployment");
            for (const d of deployments) {
                const ns = d.object.metadata.namespace;
                const want = d.object.spec.replicas ?? 1;
                const selector = Object.entries<string>(d.object.spec.selector.matchLabels)
                    .map(([k, v]) => `${k}=${v}`)
                    .join(",");
                const pods = await waitFor(
                    `${ns}/${d.object.metadata.name}: ${want} pods Running and Ready`,
                    120_000,
                    async () => {
                        const pods = await cluster!.admin.list<Json>("v1", "Pod", ns, selector);
                        const ready = pods.filter(
                            (p) =>
                                p.status?.phase === "Running" &&
                                p.status.conditions?.some((c: Json) => c.type === "Ready" && c.status === "True"),
                        );
                        return ready.length === want ? ready : undefined;
                    },
                );
                for (const p of pods) {
                    const node = await cluster!.admin.read<Json>("v1", "Node", p.spec.nodeName);
                    assert.ok(
                        !(node.spec.taints ?? []).some((t: Json) => t.key === "nvidia.com/gpu"),
                        `${p.metadata.name} landed on GPU node ${node.metadata.name}`,
                    );
                }
            }
        });

        it("refuses, by Pod Security admission, a pod that breaks `restricted` in every model namespace (and admits a restricted one)", async () => {
            assert.ok(modelNamespaces.length > 0);
            for (const ns of modelNamespaces) {
                const bad: KubernetesObject = {
                    apiVersion: "v1",
                    kind: "Pod",
                    metadata: { name: "breaks-restricted", namespace: ns.name },
                    spec: {
                        containers: [
                            {
                                name: "main",
                                image: "registry.k8s.io/pause:3.10",
                                resources: { requests: { cpu: "10m", memory: "64Mi" }, limits: { memory: "64Mi" } },
                            },
                        ],
                    },
                };
                await refused(cluster!.admin.create(bad), 403, /violates PodSecurity "restricted:latest"/);
                await cluster!.admin.create(restrictedPod(ns.name, "is-restricted"), true);
            }
        });

        it("lets the deployer manage model servers and routes, and nothing else: no Secrets, no other namespace (SubjectAccessReview)", async () => {
            const sa = PIPELINE_SERVICE_ACCOUNTS.deployer;
            const who = saUser(sa.namespace, sa.name);
            // What the deploy, route and promote steps do: each by name (the Roles list resource names).
            const modelRoutes = objects
                .filter((o) => o.object.kind === "HTTPRoute" && o.object.metadata.labels?.[MODEL_LABEL_KEYS.model])
                .map((o) => o.object.metadata.name as string);
            const gw = "gateway.networking.k8s.io";
            const mayDo: Access[] = [
                ...modelNamespaces.flatMap((ns) => [
                    { verb: "get", group: "apps", resource: "deployments", name: "model-server", namespace: ns.name },
                    { verb: "patch", group: "apps", resource: "deployments", name: "model-server", namespace: ns.name },
                    { verb: "get", resource: "configmaps", name: "model-server-deploy", namespace: ns.name },
                    {
                        verb: "patch",
                        group: "autoscaling",
                        resource: "horizontalpodautoscalers",
                        name: "model-server",
                        namespace: ns.name,
                    },
                    {
                        verb: "patch",
                        group: "policy",
                        resource: "poddisruptionbudgets",
                        name: "model-server",
                        namespace: ns.name,
                    },
                ]),
                ...modelRoutes.flatMap((name) => [
                    { verb: "get", group: gw, resource: "httproutes", name, namespace: GATEWAY_NAMESPACE },
                    { verb: "patch", group: gw, resource: "httproutes", name, namespace: GATEWAY_NAMESPACE },
                ]),
            ];
            assert.ok(modelRoutes.length > 0);
            const mayNot: Access[] = [
                ...modelNamespaces.flatMap((ns) => [
                    { verb: "patch", group: "apps", resource: "deployments", name: "another", namespace: ns.name },
                    { verb: "get", resource: "configmaps", name: "another", namespace: ns.name },
                    { verb: "get", resource: "secrets", namespace: ns.name },
                    { verb: "list", resource: "secrets", namespace: ns.name },
                    {
                        verb: "create",
                        group: "rbac.authorization.k8s.io",
                        resource: "rolebindings",
                        namespace: ns.name,
                    },
                    { verb: "create", resource: "pods", subresource: "exec", namespace: ns.name },
                    { verb: "create", resource: "serviceaccounts", subresource: "token", namespace: ns.name },
                    { verb: "patch", resource: "namespaces", namespace: ns.name },
                ]),
                ...["monitoring", PIPELINES_NAMESPACE, GATEWAY_NAMESPACE, "kube-system", "default"].flatMap((ns) => [
                    { verb: "create", group: "apps", resource: "deployments", namespace: ns },
                    { verb: "get", resource: "secrets", namespace: ns },
                ]),
                { verb: "list", resource: "namespaces" },
                { verb: "create", resource: "namespaces" },
                { verb: "list", resource: "secrets" },
                {
                    verb: "delete",
                    group: "gateway.networking.k8s.io",
                    resource: "httproutes",
                    namespace: GATEWAY_NAMESPACE,
                },
                {
                    verb: "patch",
                    group: "gateway.networking.k8s.io",
                    resource: "gateways",
                    namespace: GATEWAY_NAMESPACE,
                },
                { verb: "patch", group: gw, resource: "httproutes", name: "git-webhook", namespace: GATEWAY_NAMESPACE },
            ];
            const wrongYes = [];
            for (const a of mayNot) if (await allowed(cluster!.admin, who, a)) wrongYes.push(fmt(a));
            const wrongNo = [];
            for (const a of mayDo) if (!(await allowed(cluster!.admin, who, a))) wrongNo.push(fmt(a));
            assert.deepEqual(
                { allowedButShouldNotBe: wrongYes, deniedButNeeded: wrongNo },
                { allowedButShouldNotBe: [], deniedButNeeded: [] },
            );
        });

        it("refuses the deployer's own token a Secret in a model namespace and a Deployment outside them", async () => {
            const sa = PIPELINE_SERVICE_ACCOUNTS.deployer;
            const deployer = await tokenClient(cluster!, await saToken(cluster!.admin, sa.namespace, sa.name));
            const ns = modelNamespaces[0].name;
            await refused(deployer.list("v1", "Secret", ns), 403, /cannot list resource "secrets"/);
            await refused(
                deployer.list("apps/v1", "Deployment", "monitoring"),
                403,
                /cannot list resource "deployments"/,
            );
            // A positive control with the same token: it reads what its Role grants.
            assert.equal(
                (await deployer.read("v1", "ConfigMap", "model-server-deploy", ns)).metadata.name,
                "model-server-deploy",
            );
            await refused(deployer.list("v1", "ConfigMap", ns), 403, /cannot list resource "configmaps"/);
        });

        it("gives a model server's service account no API access and no mounted token", async () => {
            for (const ns of modelNamespaces) {
                const sa = await cluster!.admin.read<Json>("v1", "ServiceAccount", "model-server", ns.name);
                assert.equal(sa.automountServiceAccountToken, false, `${ns.name}/model-server mounts a token`);
                const who = saUser(ns.name, "model-server");
                for (const a of [
                    { verb: "get", resource: "pods", namespace: ns.name },
                    { verb: "list", resource: "configmaps", namespace: ns.name },
                    { verb: "get", resource: "secrets", namespace: ns.name },
                    {
                        verb: "list",
                        group: "gateway.networking.k8s.io",
                        resource: "httproutes",
                        namespace: GATEWAY_NAMESPACE,
                    },
                    { verb: "list", resource: "namespaces" },
                ] as Access[]) {
                    assert.equal(await allowed(cluster!.admin, who, a), false, `${who.user} may ${fmt(a)}`);
                }
            }
            const ns = modelNamespaces[0].name;
            const server = await tokenClient(cluster!, await saToken(cluster!.admin, ns, "model-server"));
            await refused(server.list("v1", "Pod", ns), 403, /cannot list resource "pods"/);
        });

        it("refuses, by ResourceQuota, a GPU pod beyond the model namespace's GPU quota", async () => {
            const settings = await cluster!.admin.read<Json>(
                "v1",
                "ConfigMap",
                "pipeline-settings",
                PIPELINES_NAMESPACE,
            );
            const scheduling = {
                nodeSelector: JSON.parse(settings.data.GPU_NODE_SELECTOR),
                tolerations: JSON.parse(settings.data.GPU_TOLERATIONS),
            };
            for (const ns of modelNamespaces) {
                const quota = await cluster!.admin.read<Json>("v1", "ResourceQuota", "model-version", ns.name);
                const gpus = Number(quota.spec.hard["requests.nvidia.com/gpu"]);
                assert.ok(Number.isInteger(gpus), `${ns.name}: quota without requests.nvidia.com/gpu`);
                await refused(
                    cluster!.admin.create(restrictedPod(ns.name, "too-many-gpus", { gpus: gpus + 1, scheduling })),
                    403,
                    /exceeded quota: model-version, requested: requests.nvidia.com\/gpu=/,
                );
                if (gpus > 0)
                    await cluster!.admin.create(restrictedPod(ns.name, "within-quota", { gpus, scheduling }), true);
            }
        });

        describe("pipeline steps, run as their Tasks render them with the Task's service account", () => {
            let python: string;
            let runtimeDir: string;
            let cpu: (typeof modelNamespaces)[number];
            let gpu: (typeof modelNamespaces)[number];
            let imageRepository: string;
            after(async () => {
                await monitoring?.stop();
            });

            let monitoring: Monitoring | undefined;
            before(async () => {
                python = stepPython();
                runtimeDir = stepRuntime().dir;
                // Timed Tasks push their stage duration to the Pushgateway, and promote queries Prometheus.
                monitoring = await startMonitoring(path.join(WORK, stack, "monitoring"), "127.0.0.16", "127.0.0.17");
                cpu = modelNamespaces.find((n) => n.gpu === 0)!;
                gpu = modelNamespaces.find((n) => n.gpu > 0)!;
                assert.ok(cpu && gpu, `${stack} needs a CPU and a GPU model version`);
                const settings = await cluster!.admin.read<Json>(
                    "v1",
                    "ConfigMap",
                    "pipeline-settings",
                    PIPELINES_NAMESPACE,
                );
                imageRepository = settings.data.IMAGE_REPOSITORY;
            });

            const task = (name: string): TaskObject => {
                const o = objectsOfPlan().find((x) => x.kind === "Task" && x.metadata.name === name);
                if (!o) throw new Error(`the plan has no Task ${name}`);
                return o as TaskObject;
            };
            const objectsOfPlan = () => planTasks;
            let planTasks: Json[] = [];
            before(() => {
                planTasks = fs
                    .readdirSync(path.join(plan.dir, "manifests"))
                    .filter((f) => f.startsWith(`${PIPELINES_NAMESPACE}__task__`))
                    .map((f) => parseYaml(fs.readFileSync(path.join(plan.dir, "manifests", f), "utf8")));
            });

            /**
             * Runs a Task as rendered, every step in order, as its service account, on the local step runtime (built
             * once before any step runs, as `pulumi up` builds the runtime image at install time).
             */
            async function step(
                taskName: string,
                params: Record<string, string>,
                opts: { task?: TaskObject; credentials?: "in-cluster" | "kubeconfig" } = {},
            ): Promise<TaskResult> {
                const t = opts.task ?? task(taskName);
                const serviceAccount = t.metadata.labels?.[ROLE_LABEL];
                assert.ok(serviceAccount, `Task ${taskName} names no service account`);
                const r = await runTask(cluster!.admin, {
                    task: t,
                    params,
                    namespace: PIPELINES_NAMESPACE,
                    serviceAccount,
                    apiServerIp: cluster!.ip,
                    caFile: cluster!.caFile,
                    pythonBin: python,
                    hosts: monitoring!.hosts,
                    runtimeDir,
                    credentials: opts.credentials,
                    timeoutMs: 240_000,
                });
                f.stepsRun += r.steps.length;
                return r;
            }
            const ok = (r: TaskResult, what: string) =>
                assert.equal(
                    r.exitCode,
                    0,
                    `${what}: step ${r.failedStep} exited ${r.exitCode}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`,
                );
            /** An image reference pinned by digest, as build-image's `image` result is. */
            const image = (tag: string) =>
                `${imageRepository}@sha256:${createHash("sha256").update(tag).digest("hex")}`;
            /** The deploy Task's params as the deploy pipeline passes them by default: replicas and GPUs from the namespace's settings. */
            const deployParams = (ns: (typeof modelNamespaces)[number], tag: string) => ({
                model: ns.model,
                version: ns.version,
                image: image(tag),
            });

            async function serverPods(ns: string): Promise<Json[]> {
                return cluster!.admin.list<Json>("v1", "Pod", ns, "app.kubernetes.io/name=model-server");
            }

            it("deploy rolls out a CPU version: pods Running and Ready, none on a GPU node", async () => {
                ok(await step("deploy", deployParams(cpu, "c1")), `deploy ${cpu.name}`);
                for (const p of await serverPods(cpu.name)) {
                    assert.equal(p.status.phase, "Running");
                    const node = await cluster!.admin.read<Json>("v1", "Node", p.spec.nodeName);
                    assert.notEqual(
                        node.metadata.labels["nvidia.com/gpu.present"],
                        "true",
                        `${p.metadata.name} on a GPU node`,
                    );
                }
            });

            it("deploy rolls out a GPU version: its pods only on GPU nodes, within the namespace's GPU quota", async () => {
                ok(await step("deploy", deployParams(gpu, "g1")), `deploy ${gpu.name}`);
                const pods = await serverPods(gpu.name);
                assert.ok(pods.length > 0);
                for (const p of pods) {
                    const node = await cluster!.admin.read<Json>("v1", "Node", p.spec.nodeName);
                    assert.ok(
                        Number(node.status.allocatable["nvidia.com/gpu"]) > 0,
                        `${p.metadata.name} on ${node.metadata.name}, which has no GPU`,
                    );
                }
                const quota = await cluster!.admin.read<Json>("v1", "ResourceQuota", "model-version", gpu.name);
                assert.ok(
                    Number(quota.status.used["requests.nvidia.com/gpu"]) <=
                        Number(quota.status.hard["requests.nvidia.com/gpu"]),
                );
            });

            it("a second deploy into the GPU version, at full GPU quota, completes with the new image", async () => {
                const quota = await cluster!.admin.read<Json>("v1", "ResourceQuota", "model-version", gpu.name);
                assert.equal(
                    quota.status.used["requests.nvidia.com/gpu"],
                    quota.status.hard["requests.nvidia.com/gpu"],
                    "the GPU quota is not full before the second deploy",
                );
                ok(await step("deploy", deployParams(gpu, "g2")), `second deploy ${gpu.name}`);
                const pods = await serverPods(gpu.name);
                assert.ok(
                    pods.length > 0 &&
                        pods.every((p) => p.spec.containers[0].image === image("g2") && p.status.phase === "Running"),
                );
            });

            /** A model's route as the API has it: live weight per version namespace, mirrored ones at 0, in route order. */
            async function liveRoute(model: string): Promise<{ strategy: string; weights: [string, number][] }> {
                const routes = await cluster!.admin.list<Json>(
                    "gateway.networking.k8s.io/v1",
                    "HTTPRoute",
                    GATEWAY_NAMESPACE,
                    `${MODEL_LABEL_KEYS.model}=${model}`,
                );
                assert.equal(routes.length, 1, `${model}: ${routes.length} routes`);
                const weights = new Map<string, number>();
                for (const rule of routes[0].spec.rules) {
                    for (const b of rule.backendRefs ?? [])
                        weights.set(b.namespace, (weights.get(b.namespace) ?? 0) + (b.weight ?? 1));
                    for (const f of rule.filters ?? [])
                        if (f.type === "RequestMirror")
                            weights.set(
                                f.requestMirror.backendRef.namespace,
                                weights.get(f.requestMirror.backendRef.namespace) ?? 0,
                            );
                }
                return { strategy: routes[0].metadata.labels["mlops-testbed/traffic-strategy"], weights: [...weights] };
            }
            const modelsWithRoutes = () => [...new Set(modelNamespaces.map((n) => n.model))];
            /** The model whose traffic moves: canary if the stack has one, else blue-green (shadow never moves weights). */
            async function movingModel(): Promise<string> {
                const byStrategy = new Map<string, string>();
                for (const m of modelsWithRoutes()) {
                    const { strategy, weights } = await liveRoute(m);
                    if (weights.length > 1 && !byStrategy.has(strategy)) byStrategy.set(strategy, m);
                }
                const m = byStrategy.get("canary") ?? byStrategy.get("blue-green");
                assert.ok(m, `${stack} has no model with canary or blue-green traffic`);
                return m;
            }

            it("choose-versions reads each model's live route: the least-served version as candidate, the most-served other as baseline, the route's strategy", async () => {
                for (const model of modelsWithRoutes()) {
                    const r = await step("choose-versions", { model });
                    ok(r, `choose-versions ${model}`);
                    const { strategy, weights } = await liveRoute(model);
                    // The README's rule: least live traffic (mirrored = 0, ties to the first on the route); baseline the other serving most.
                    const candidate = weights.reduce((a, b) => (b[1] < a[1] ? b : a));
                    const others = weights.filter((w) => w !== candidate && w[1] > 0);
                    const baseline = others.length > 0 ? others.reduce((a, b) => (b[1] > a[1] ? b : a))[0] : undefined;
                    const v = (ns: string | undefined) => (ns ? ns.slice(model.length + 1) : "");
                    assert.deepEqual(
                        { version: r.results.version, baseline: r.results.baseline, strategy: r.results.strategy },
                        { version: v(candidate[0]), baseline: v(baseline), strategy },
                        model,
                    );
                }
            });

            it("choose-versions finds the API through KUBECONFIG too (a kubeconfig carrying the deployer's token), with the same choice", async () => {
                const model = await movingModel();
                const inCluster = await step("choose-versions", { model });
                const workstation = await step("choose-versions", { model }, { credentials: "kubeconfig" });
                ok(inCluster, "choose-versions in-cluster");
                ok(workstation, "choose-versions with KUBECONFIG");
                assert.deepEqual(workstation.results, inCluster.results);
            });

            it("deploy, as the deployer, is refused a namespace that is not a model version's (kube-system)", async () => {
                const r = await step("deploy", { model: "kube", version: "system", image: image("x1") });
                assert.notEqual(r.exitCode, 0, "deploy into kube-system succeeded");
                assert.equal(r.failedStep, "deploy");
                assert.match(r.stderr, /403|[Ff]orbidden/);
                assert.deepEqual(
                    await cluster!.admin.list(
                        "apps/v1",
                        "Deployment",
                        "kube-system",
                        "app.kubernetes.io/name=model-server",
                    ),
                    [],
                );
            });

            it("route switches all traffic to a version on the real HTTPRoute, and the rollback pipeline's route restores the previous one", async () => {
                const model = await movingModel();
                const [[first], [second]] = (await liveRoute(model)).weights;
                const v = (ns: string) => ns.slice(model.length + 1);
                ok(await step("route", { model, version: v(second), strategy: "single" }), "route");
                assert.deepEqual(Object.fromEntries((await liveRoute(model)).weights), { [first]: 0, [second]: 100 });
                ok(
                    await step("route", {
                        model,
                        version: v(first),
                        strategy: "single",
                        pipeline: "rollback",
                    }),
                    "rollback route",
                );
                assert.deepEqual(Object.fromEntries((await liveRoute(model)).weights), { [first]: 100, [second]: 0 });
            });

            describe("promote, against a real Prometheus and Pushgateway on loopback", () => {
                const PROMOTE_INTERVAL_SECONDS = 30;
                let promoteTask: TaskObject;

                before(async () => {
                    // The analysis interval is a stack setting (300 s by default): the same stack planned with the
                    // schema's minimum renders the Task the test runs, and only that env value differs.
                    const dir = stackVariant(stack, path.join(WORK, `${stack}-fast-promotion`), {
                        pipelines: { promotion: { analysisIntervalSeconds: PROMOTE_INTERVAL_SECONDS } },
                    });
                    const variant = planStack(stack, path.join(WORK, "plan-fast-promotion"), dir);
                    promoteTask = parseYaml(
                        fs.readFileSync(
                            path.join(variant.dir, "manifests", `${PIPELINES_NAMESPACE}__task__promote.yaml`),
                            "utf8",
                        ),
                    );
                    const envOf = (t: TaskObject) =>
                        Object.fromEntries(t.spec.steps[0].env!.map((e) => [e.name, e.value]));
                    const applied = envOf(task("promote"));
                    const changed = Object.keys(applied).filter((k) => applied[k] !== envOf(promoteTask)[k]);
                    assert.deepEqual(changed, ["INTERVAL_SECONDS"]);
                });
                const promoteEnv = () =>
                    Object.fromEntries(promoteTask.spec.steps[0].env!.map((e) => [e.name, e.value!]));
                const stepsOf = (strategy: Strategy) =>
                    stepsFor(strategy, JSON.parse(promoteEnv().CANARY_STEPS), Number(promoteEnv().SHADOW_ANALYSES));

                /** Version samples as the recording rules would have them, pushed where Prometheus scrapes them. */
                async function serve(
                    model: string,
                    samples: Record<string, { rate: number; errors: number; p95: number }>,
                ): Promise<void> {
                    const lines = Object.entries(samples).flatMap(([ns, s]) => {
                        const labels = `{model="${model}",version="${ns.slice(model.length + 1)}",namespace="${ns}"}`;
                        return [
                            `${RECORDED.requestRate}${labels} ${s.rate}`,
                            `${RECORDED.errorRatio}${labels} ${s.errors}`,
                            `${RECORDED.latencyP95}${labels} ${s.p95}`,
                        ];
                    });
                    await pushGauges(monitoring!.pushgateway, "analysis-fixture", lines);
                    const q = encodeURIComponent(`sum(${RECORDED.errorRatio})`);
                    const want = Object.values(samples).reduce((n, s) => n + s.errors, 0);
                    await waitFor("Prometheus has scraped the samples", 30_000, async () => {
                        const body = (await (
                            await fetch(`${monitoring!.prometheus}/api/v1/query?query=${q}`)
                        ).json()) as Json;
                        const v = body.data?.result?.[0]?.value?.[1];
                        return v !== undefined && Math.abs(Number(v) - want) < 1e-9 ? true : undefined;
                    });
                }

                /**
                 * choose-versions, then promote with its results as the deploy pipeline wires them, with the candidate's
                 * error ratio as given, watching the candidate's weight on the route while the step runs.
                 */
                async function promote(model: string, candidateErrors: number) {
                    const chosen = await step("choose-versions", { model });
                    ok(chosen, "choose-versions");
                    const { version, baseline, strategy, rollout } = chosen.results;
                    assert.equal(rollout, "progressive", `${model}: rollout ${rollout}`);
                    const [candidateNs, baselineNs] = [`${model}-${version}`, `${model}-${baseline}`];
                    await serve(model, {
                        [candidateNs]: { rate: 1, errors: candidateErrors, p95: 0.1 },
                        [baselineNs]: { rate: 1, errors: 0, p95: 0.1 },
                    });
                    const seen: number[] = [];
                    let done = false;
                    const watching = (async () => {
                        while (!done) {
                            const w = Object.fromEntries((await liveRoute(model)).weights)[candidateNs];
                            if (seen[seen.length - 1] !== w) seen.push(w);
                            await new Promise((r) => setTimeout(r, 500));
                        }
                    })();
                    const result = await step(
                        "promote",
                        { model, "candidate-version": version, "baseline-version": baseline, strategy },
                        { task: promoteTask },
                    ).finally(() => (done = true));
                    await watching;
                    return { result, seen, strategy: strategy as Strategy, candidateNs, baselineNs };
                }

                it("a failing analysis: the route moves to the first step, then rolls back to the baseline", async () => {
                    const model = await movingModel();
                    const { result, seen, strategy, candidateNs, baselineNs } = await promote(model, 0.5);
                    assert.equal(
                        result.exitCode,
                        1,
                        `promote exited ${result.exitCode}\n${result.stdout}\n${result.stderr}`,
                    );
                    assert.equal(result.results.decision, "rollback");
                    const first = stepsOf(strategy)[0];
                    assert.ok(
                        seen.includes(first),
                        `the route never carried the first step (${first}%): ${seen.join(" -> ")}`,
                    );
                    assert.deepEqual(Object.fromEntries((await liveRoute(model)).weights), {
                        [candidateNs]: 0,
                        [baselineNs]: 100,
                    });
                    const pushed = await (await fetch(`${monitoring!.pushgateway}/metrics`)).text();
                    assert.match(
                        pushed,
                        new RegExp(`mlops_last_rollback_timestamp_seconds\\{[^}]*namespace="${candidateNs}"`),
                    );
                });

                it("passing analyses: the candidate steps through every weight on the real HTTPRoute to 100", async () => {
                    const model = await movingModel();
                    const { result, seen, strategy, candidateNs, baselineNs } = await promote(model, 0);
                    assert.equal(
                        result.exitCode,
                        0,
                        `promote exited ${result.exitCode}\n${result.stdout}\n${result.stderr}`,
                    );
                    assert.equal(result.results.decision, "promote");
                    for (const w of stepsOf(strategy))
                        assert.ok(seen.includes(w), `the route never carried ${w}%: ${seen.join(" -> ")}`);
                    assert.deepEqual(Object.fromEntries((await liveRoute(model)).weights), {
                        [candidateNs]: 100,
                        [baselineNs]: 0,
                    });
                });
            });
        });
    });
}
