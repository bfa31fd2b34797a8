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
import { POLICIES } from "../policy/policies";
import type { Plan } from "../tools/mock-runtime";
import { listStacks, loadStack, PROJECT_ROOT } from "../tools/stack";
import { planStack } from "./harness";
import { startPolicyServer, type PolicyServer } from "./policy-server";

const STACKS = listStacks();

describe("policy pack: every stack's plan", () => {
    const plans: Record<string, Plan> = {};
    before(async () => {
        for (const stack of STACKS) plans[stack] = await planStack(stack);
    });

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
