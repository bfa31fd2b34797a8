/**
 * The policy pack over the plan of every stack the program has (Pulumi.<stack>.yaml), offline and through the
 * analyzer server Pulumi itself would start for `pulumi preview --policy-pack policy`.
 */
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import {
    analyzedResources,
    checkPlan,
    formatViolations,
    runPolicies,
    type AnalyzedResource,
    type Violation,
} from "../policy/offline";
import { podSecurityProblems } from "../policy/lib/pod-security";
import { POLICIES } from "../policy/policies";
import { podsMeetNamespacePodSecurity } from "../policy/policies/pod-security";
import { DEPLOY_SETTINGS, MODEL_LABEL_KEYS, PIPELINES_NAMESPACE } from "../contract/names";
import { SETTINGS_CONFIGMAP } from "../pipelines/core/context";
import type { Step } from "../pipelines/core/tekton";
import { kubernetesResources, toObject, type K8sObject } from "./k8s-objects";
import { runPython } from "./python";
import type { Json } from "./json";
import type { Plan } from "../tools/mock-runtime";
import { listStacks, loadStack, PROJECT_ROOT } from "../tools/stack";
import { planStack } from "./harness";
import { startPolicyServer, type PolicyServer } from "./policy-server";

const STACKS = listStacks();

/** Every stack's plan, made once for the specs of this file that need them all. */
const plans: Record<string, Plan> = {};
async function planAll(): Promise<void> {
    for (const stack of STACKS) plans[stack] ??= await planStack(stack);
}

describe("policy pack: every stack's plan", () => {
    before(planAll);

    it("has stacks to check (dev and prod at least)", () => {
        assert.ok(STACKS.includes("dev") && STACKS.includes("prod"), `stacks: ${STACKS.join(", ")}`);
    });

    for (const stack of STACKS) {
        it(`${stack}: zero violations`, async () => {
            const run = await checkPlan(plans[stack]);
            assert.ok(
                plans[stack].resources.length > 50,
                `${stack} planned ${plans[stack].resources.length} resources`,
            );
            assert.deepEqual(run.violations, [], `${stack}:\n${formatViolations(run.violations)}`);
        });
    }

    for (const stack of STACKS.filter((s) => s.endsWith("-example"))) {
        it(`${stack}: zero violations held to production rules (protected stores, restricted API endpoint)`, async () => {
            const cluster = JSON.parse(loadStack(stack).config["mlops-testbed:cluster"] ?? "{}");
            const overrides = {
                artifactStores: { protection: "protected", noncurrentVersionDays: 90 },
                ...("endpointAccess" in cluster
                    ? { cluster: { ...cluster, publicAccessCidrs: ["203.0.113.0/24"] } }
                    : {}),
            };
            const production = { productionStacks: [stack] };
            const run = await checkPlan(await planStack(stack, overrides), POLICIES, {
                "production-stateful-protected": production,
                "cluster-endpoint-restricted-in-production": production,
            });
            assert.deepEqual(run.violations, [], formatViolations(run.violations));
        });
    }

    it("docs/policy-pack.md lists exactly the pack's policies, in order", () => {
        const section = fs.readFileSync(path.join(PROJECT_ROOT, "docs", "policy-pack.md"), "utf8");
        assert.deepEqual(
            [...section.matchAll(/^\| `([a-z0-9-]+)` \|/gm)].map((m) => m[1]),
            POLICIES.map((p) => p.name),
        );
    });

    it("npm run policy reports the stack and exits 0 when nothing is violated", function () {
        this.timeout(120_000);
        const out = execFileSync(
            process.execPath,
            ["--import", "tsx", path.join(PROJECT_ROOT, "tools/policy.ts"), "--stack", "dev", "--markdown"],
            {
                encoding: "utf8",
                env: { ...process.env, NODE_OPTIONS: "" },
            },
        );
        assert.match(out, new RegExp(`^### Policy pack \\(${POLICIES.length} mandatory policies\\)`, "m"));
        assert.match(out, /^\| dev \| \d+ \| 0 \|$/m);
    });

    it("names each policy once, all mandatory and described", () => {
        const names = POLICIES.map((p) => p.name);
        assert.equal(new Set(names).size, names.length);
        for (const p of POLICIES) {
            assert.equal(p.enforcementLevel, "mandatory", p.name);
            assert.match(p.name, /^[a-z0-9-]+$/);
            assert.ok(p.description.length > 20, p.name);
        }
    });
});

// ---- what the pack cannot see: the Deployment the deploy step builds at run time -------------------------------

const PINNED_IMAGE = `registry.example/model-server:abc1234@sha256:${"a".repeat(64)}`;
const DEPLOY_DIR = path.join(PROJECT_ROOT, "pipelines", "tasks", "deploy");

/** One run of the deploy step: the stack, the version's namespace, the Task params given, and what it builds. */
interface DeployVariant {
    readonly stack: string;
    readonly namespace: string;
    readonly params: Readonly<Record<string, string>>;
    /** The step's environment (the pipelines' settings, then the step's env with params put in). */
    readonly env: Record<string, string>;
    /** The version's deploy settings (the `model-server-deploy` ConfigMap data the plan renders). */
    readonly data: Record<string, string>;
}

/** Params a run may give besides model, version and image: none (the settings decide), CPU, GPU, none running, a build. */
const PARAM_VARIANTS: readonly Record<string, string>[] = [
    {},
    { gpu: "0" },
    { gpu: "1" },
    { replicas: "0" },
    { build: "20261123T101500Z-abc1234", replicas: "2" },
];

/** Every run of the deploy step each stack's plan allows: each model version's settings under each PARAM_VARIANTS. */
function deployVariants(stack: string, plan: Plan): DeployVariant[] {
    const objects = kubernetesResources(plan).map(toObject);
    const settings = objects.find(
        (o) =>
            o.kind === "ConfigMap" &&
            o.metadata.namespace === PIPELINES_NAMESPACE &&
            o.metadata.name === SETTINGS_CONFIGMAP,
    );
    const task = objects.find((o) => o.kind === "Task" && o.metadata.name === "deploy");
    assert.ok(settings && task, `${stack}: the pipelines' settings and the deploy Task`);
    const step = (task.spec.steps as Step[]).find((s) => s.name === "deploy");
    assert.ok(step, `${stack}: the deploy Task's deploy step`);
    const defaults = Object.fromEntries((task.spec.params as Json[]).map((p) => [p.name, p.default]));
    return objects
        .filter((o) => o.kind === "ConfigMap" && o.metadata.name === DEPLOY_SETTINGS.configMap)
        .flatMap((cm) => {
            const ns = objects.find((o) => o.kind === "Namespace" && o.metadata.name === cm.metadata.namespace);
            const labels = ns?.metadata.labels ?? {};
            return PARAM_VARIANTS.map((extra) => {
                const params: Record<string, string> = {
                    ...defaults,
                    model: labels[MODEL_LABEL_KEYS.model],
                    version: labels[MODEL_LABEL_KEYS.version],
                    image: PINNED_IMAGE,
                    ...extra,
                };
                const env: Record<string, string> = { ...(settings.data as Record<string, string>) };
                for (const e of step.env ?? [])
                    env[e.name] = String(e.value).replace(/\$\(params\.([a-z-]+)\)/g, (_, k: string) => params[k]);
                return {
                    stack,
                    namespace: String(cm.metadata.namespace),
                    params: extra,
                    env,
                    data: cm.data as Record<string, string>,
                };
            });
        });
}

/** Runs deploy.py's manifests() (the code the step runs, in the project's Python) once per variant. */
function deployManifests(variants: readonly DeployVariant[]): K8sObject[][] {
    const driver = [
        "import importlib.util, json, sys",
        'spec = importlib.util.spec_from_file_location("deploy", "deploy.py")',
        "deploy = importlib.util.module_from_spec(spec)",
        "spec.loader.exec_module(deploy)",
        'runs = [deploy.manifests(v["env"], deploy.deploy_settings({"data": v["data"]})) for v in json.load(sys.stdin)]',
        "print(json.dumps(runs))",
    ].join("\n");
    const run = runPython(["-c", driver], { cwd: DEPLOY_DIR, input: JSON.stringify(variants) });
    assert.equal(run.status, 0, run.stderr);
    return JSON.parse(run.stdout);
}

describe("the deploy step's Deployment, built at run time for every stack's deploy settings, meets Pod Security restricted", function () {
    this.timeout(180_000);
    const runs: { variant: DeployVariant; deployment: K8sObject }[] = [];
    before(async () => {
        await planAll();
        const variants = STACKS.flatMap((stack) => deployVariants(stack, plans[stack]));
        deployManifests(variants).forEach((objects, i) => {
            const deployments = objects.filter((o) => o.kind === "Deployment");
            assert.equal(deployments.length, 1, `${variants[i].stack} ${variants[i].namespace}: one Deployment`);
            runs.push({ variant: variants[i], deployment: deployments[0] });
        });
    });

    it("covers every model version of every stack, CPU and GPU, and each platform's identity settings", () => {
        for (const stack of STACKS) {
            const versions = new Set(runs.filter((r) => r.variant.stack === stack).map((r) => r.variant.namespace));
            assert.ok(versions.size >= 2, `${stack}: ${[...versions].join(", ")}`);
        }
        const pod = (r: (typeof runs)[number]) => r.deployment.spec.template;
        const gpus = (r: (typeof runs)[number]) => pod(r).spec.containers[0].resources.limits["nvidia.com/gpu"];
        assert.ok(runs.some((r) => gpus(r) === undefined) && runs.some((r) => gpus(r) === "1"), "CPU and GPU pods");
        assert.ok(
            runs.some(
                (r) =>
                    r.variant.stack === "azure-example" &&
                    pod(r).metadata.labels["azure.workload.identity/use"] === "true",
            ),
            "Azure: the workload identity label",
        );
        assert.ok(
            runs.some(
                (r) =>
                    r.variant.stack === "existing-example" &&
                    pod(r).spec.initContainers[0].envFrom.some((e: Json) => e.secretRef?.name),
            ),
            "existing cluster: the store credentials Secret as envFrom",
        );
    });

    it("every pod template, init container included, meets restricted, the level its namespace enforces", async () => {
        for (const { variant, deployment } of runs) {
            const where = `${variant.stack} ${variant.namespace} ${JSON.stringify(variant.params)}`;
            const ns = kubernetesResources(plans[variant.stack])
                .map(toObject)
                .find((o) => o.kind === "Namespace" && o.metadata.name === variant.namespace);
            assert.equal(ns?.metadata.labels?.["pod-security.kubernetes.io/enforce"], "restricted", where);
            assert.deepEqual(
                podSecurityProblems(deployment.spec.template, "restricted").map((p) => `${p.check}: ${p.detail}`),
                [],
                where,
            );
        }
    });

    it("the pack's own policy judges them so too, placed in their stack's plan as if Pulumi had created them", async () => {
        for (const stack of STACKS) {
            const deployments = runs
                .filter((r) => r.variant.stack === stack)
                .map(({ variant, deployment }, i) => ({
                    urn: `urn:pulumi:${stack}::mlops-testbed::kubernetes:apps/v1:Deployment::deploy-step-${i}`,
                    type: "kubernetes:apps/v1:Deployment",
                    name: `deploy-step-${variant.namespace}-${i}`,
                    props: deployment as Record<string, Json>,
                    protect: false,
                    ignoreChanges: [],
                    dependencies: [],
                    propertyDependencies: {},
                }));
            const run = await runPolicies(
                [...analyzedResources(plans[stack]), ...deployments],
                [podsMeetNamespacePodSecurity],
            );
            assert.deepEqual(run.violations, [], formatViolations(run.violations));
        }
    });
});

/** A Deployment violating several resource policies at once (unpinned image, no requests, GPU without toleration). */
function badDeployment(stack: string): AnalyzedResource {
    return {
        urn: `urn:pulumi:${stack}::mlops-testbed::kubernetes:apps/v1:Deployment::bad`,
        type: "kubernetes:apps/v1:Deployment",
        name: "bad",
        props: {
            metadata: { name: "bad", namespace: "default" },
            spec: {
                template: {
                    spec: {
                        containers: [{ name: "app", image: "nginx", resources: { limits: { "nvidia.com/gpu": 1 } } }],
                    },
                },
            },
        },
        protect: false,
        ignoreChanges: [],
        dependencies: [],
        propertyDependencies: {},
    };
}

/** The dev plan with violations of resource and stack policies: no versioning, a chart range, a bad Deployment. */
function brokenDev(plan: Plan): AnalyzedResource[] {
    return [
        ...analyzedResources(plan)
            .filter(
                (r) =>
                    !(
                        r.type === "aws:s3/bucketVersioning:BucketVersioning" &&
                        r.name === "aws-store-models-versioning"
                    ),
            )
            .map((r) => (r.name === "aws-nvidia-release" ? { ...r, props: { ...r.props, version: "^0.20" } } : r)),
        badDeployment("dev"),
    ];
}

const key = (v: Violation) => `${v.policy} ${v.urn}`;

describe("policy pack: served as `pulumi preview --policy-pack policy` runs it", function () {
    this.timeout(180_000);
    let server: PolicyServer;
    let dev: Plan;
    before(async () => {
        dev = await planStack("dev");
        server = await startPolicyServer();
    });
    after(() => server?.stop());

    it("type-checks, starts and lists exactly the pack's policies, all mandatory", async () => {
        const info = await server.info();
        assert.equal(info.name, "mlops-testbed");
        assert.deepEqual(
            info.policies.map((p) => p.name),
            POLICIES.map((p) => p.name),
        );
        assert.ok(
            info.policies.every((p) => p.enforcementLevel === "mandatory"),
            JSON.stringify(info.policies),
        );
    });

    it("finds nothing in the dev plan, resource by resource and as a stack", async () => {
        const resources = analyzedResources(dev);
        const perResource = (await Promise.all(resources.map((r) => server.analyze(r)))).flat();
        assert.deepEqual(perResource, [], server.stderr());
        assert.deepEqual(await server.analyzeStack(resources), [], server.stderr());
    });

    it("reports the same violations as the offline harness", async () => {
        const resources = brokenDev(dev);
        const offline = await runPolicies(resources);
        const served: Violation[] = [];
        for (const r of resources) served.push(...(await server.analyze(r)).map((v) => ({ ...v, urn: r.urn })));
        served.push(...(await server.analyzeStack(resources)));
        assert.deepEqual(served.map(key).sort(), offline.violations.map(key).sort(), server.stderr());
        for (const v of offline.violations) {
            assert.ok(
                served.some((s) => key(s) === key(v) && s.message.endsWith(v.message)),
                `served message for ${key(v)}`,
            );
        }
        const policies = new Set(offline.violations.map((v) => v.policy));
        for (const p of [
            "storage-versioned",
            "helm-charts-pinned",
            "images-pinned",
            "pod-resource-requests",
            "gpu-workloads-tolerate-gpu-taint",
        ]) {
            assert.ok(policies.has(p), `${p} should fire: ${formatViolations(offline.violations)}`);
        }
    });
});
