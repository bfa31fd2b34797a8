import * as assert from "node:assert/strict";
import fc from "fast-check";
import {
    criticalPath,
    dependenciesOf,
    explicitDependencies,
    floorSeconds,
    type GraphResource,
    providerUrn,
    schedule,
} from "../tools/bench/critical-path";
import { IMAGES } from "../contract/versions";
import { CREATE_TIME_ESTIMATES, estimateFor, estimateKey } from "../tools/bench/estimates";
import { planStack } from "./harness";

function res(name: string, over: Partial<GraphResource> = {}): GraphResource {
    return {
        urn: name,
        name,
        type: "test:index:Thing",
        custom: true,
        parent: null,
        dependsOn: [],
        propertyDependencies: {},
        provider: null,
        ...over,
    };
}

/** Durations by name, 0 for anything not listed. */
const durations = (d: Record<string, number>) => (r: GraphResource) => d[r.name] ?? 0;

describe("bench critical path", () => {
    it("chains dependencies, output references and providers", () => {
        const rs = [
            res("vpc"),
            res("subnet", { dependsOn: ["vpc"] }),
            res("cluster", { propertyDependencies: { subnetIds: ["subnet"] } }),
            res("k8s", { type: "pulumi:providers:kubernetes", propertyDependencies: { kubeconfig: ["cluster"] } }),
            res("release", { provider: "k8s::some-id" }),
        ];
        const s = schedule(rs, durations({ vpc: 3, subnet: 2, cluster: 600, release: 90 }));
        assert.equal(s.total, 695);
        assert.deepEqual(
            s.path.map((p) => p.name),
            ["vpc", "subnet", "cluster", "release"],
        );
        assert.equal(s.timings.get("release")!.start, 605);
    });

    it("holds children back until their parent may start, and finishes a component with its last child", () => {
        const rs = [
            res("cluster"),
            res("group", { custom: false, dependsOn: ["cluster"] }),
            res("ng", { parent: "group" }),
            res("tag", { parent: "group", dependsOn: ["ng"] }),
            res("after", { dependsOn: ["group"] }),
        ];
        const s = schedule(rs, durations({ cluster: 600, ng: 240, tag: 1, after: 10 }));
        assert.equal(s.timings.get("ng")!.start, 600);
        assert.equal(s.timings.get("group")!.finish, 841);
        assert.equal(s.total, 851);
        assert.deepEqual(
            s.path.map((p) => p.name),
            ["cluster", "ng", "tag", "after"],
        );
    });

    it("records what decided each start and finish, and follows the first-planned chain on a tie", () => {
        const rs = [
            res("a"),
            res("b"),
            res("provider", { type: "pulumi:providers:aws" }),
            res("comp", { custom: false, dependsOn: ["a"] }),
            res("inner", { parent: "comp", provider: "provider::id" }),
            res("late", { dependsOn: ["b", "a"] }),
            res("early", { parent: "free" }),
        ];
        const s = schedule(rs, durations({ a: 10, b: 10, inner: 5, late: 1, early: 3 }));
        const t = (urn: string) => s.timings.get(urn)!;
        // A zero-time dependency finishing at 0 holds nothing back; a parent starting at 0 neither.
        assert.equal(t("inner").start, 10);
        assert.deepEqual(t("comp").startCause, { kind: "dependency", urn: "a" });
        assert.deepEqual(t("inner").startCause, { kind: "parent", urn: "comp" });
        assert.deepEqual(t("comp").finishCause, { kind: "child", urn: "inner" });
        assert.deepEqual(t("a").finishCause, { kind: "self" });
        // Two dependencies finishing together: the first by URN is the cause.
        assert.deepEqual(t("late").startCause, { kind: "dependency", urn: "a" });
        // A parent outside the plan holds nothing back.
        assert.deepEqual([t("early").start, t("early").finish, t("early").startCause], [0, 3, null]);
        const zero = schedule(
            [res("p", { custom: false }), res("c", { parent: "p" }), res("d", { dependsOn: ["c"] })],
            () => 0,
        );
        assert.deepEqual(zero.timings.get("c")!.startCause, null);
        assert.deepEqual(zero.timings.get("d")!.startCause, null);
        assert.deepEqual(zero.timings.get("p")!.finishCause, { kind: "self" });
        // comp finishes at 15 and late at 11: the path is a → inner, each step with its own start and finish.
        assert.equal(s.total, 15);
        assert.deepEqual(
            s.path.map((p) => [p.name, p.start, p.finish, p.duration]),
            [
                ["a", 0, 10, 10],
                ["inner", 10, 15, 5],
            ],
        );
        // Of two chains that end together, the path follows the one planned first.
        const tie = schedule([res("x"), res("y")], durations({ x: 7, y: 7 }));
        assert.deepEqual(
            tie.path.map((p) => p.name),
            ["x"],
        );
        // A resource that ends before its children is finished by its last child.
        const slow = schedule([res("remote"), res("part", { parent: "remote" })], durations({ remote: 100, part: 10 }));
        assert.deepEqual([slow.total, slow.timings.get("remote")!.finishCause], [100, { kind: "self" }]);
    });

    it("ignores references to resources outside the plan and to the resource's own ancestors", () => {
        const byUrn = new Map(
            [
                res("parent", { custom: false }),
                res("child", { parent: "parent", dependsOn: ["parent", "elsewhere"] }),
            ].map((r) => [r.urn, r] as const),
        );
        assert.deepEqual(dependenciesOf(byUrn.get("child")!, byUrn), []);
        // Every ancestor, not only the parent; a parent outside the plan ends the walk; the resource itself never.
        const nested = new Map(
            [
                res("top", { custom: false }),
                res("mid", { custom: false, parent: "top" }),
                res("leaf", { parent: "mid", dependsOn: ["top", "leaf", "z", "b"] }),
                res("z"),
                res("b"),
                res("stray", { parent: "gone", dependsOn: ["z"] }),
            ].map((r) => [r.urn, r] as const),
        );
        assert.deepEqual(dependenciesOf(nested.get("leaf")!, nested), ["b", "z"]);
        assert.deepEqual(dependenciesOf(nested.get("stray")!, nested), ["z"]);
        assert.doesNotThrow(() => schedule([...nested.values()], () => 1));
        // A parent cycle (never in a real plan: a parent registers before its children) ends the walk too.
        const loop = new Map(
            [res("p", { parent: "q", dependsOn: ["z"] }), res("q", { parent: "p" }), res("z")].map(
                (r) => [r.urn, r] as const,
            ),
        );
        assert.deepEqual(dependenciesOf(loop.get("p")!, loop), ["z"]);
    });

    it("reads the provider URN out of a provider reference", () => {
        assert.equal(
            providerUrn("urn:pulumi:dev::p::pulumi:providers:aws::aws::0b5c-id"),
            "urn:pulumi:dev::p::pulumi:providers:aws::aws",
        );
        assert.equal(providerUrn(null), null);
        // A reference without an id, or without a URN before `::`, is kept as written.
        assert.equal(providerUrn("urn-without-id"), "urn-without-id");
        assert.equal(providerUrn("::id"), "::id");
    });

    it("separates explicit dependsOn from what output references imply", () => {
        const r = res("x", { dependsOn: ["a", "b", "p"], propertyDependencies: { role: ["a"] }, provider: "p::id" });
        assert.deepEqual(explicitDependencies(r), ["b"]);
        assert.deepEqual(explicitDependencies(res("self", { dependsOn: ["self", "c"] })), ["c"]);
    });

    it("names a dependency cycle instead of looping", () => {
        const rs = [res("a", { dependsOn: ["b"] }), res("b", { dependsOn: ["a"] })];
        assert.throws(() => schedule(rs, () => 1), /^Error: dependency cycle: a and b wait for each other$/);
    });

    it("computes each platform's floor from its own parts, stage after stage, a stage its slowest part", () => {
        const lb = (name: string) =>
            res(name, { type: "kubernetes:core/v1:Service", inputs: { spec: { type: "LoadBalancer" } } });
        const helm = [
            res("h1", { type: "kubernetes:helm.sh/v3:Release" }),
            res("h2", { type: "kubernetes:helm.sh/v3:Release" }),
        ];
        const t = CREATE_TIME_ESTIMATES;
        const aws = [
            res("eks", { type: "eks:index:Cluster", custom: false }),
            res("ng1", { type: "aws:eks/nodeGroup:NodeGroup" }),
            res("ng2", { type: "aws:eks/nodeGroup:NodeGroup" }),
            ...helm,
        ];
        assert.equal(
            floorSeconds(aws, "aws", "typical"),
            t["eks:index:Cluster"].typical +
                t["aws:eks/nodeGroup:NodeGroup"].typical +
                t["kubernetes:helm.sh/v3:Release"].typical,
        );
        // The load balancer is provisioned beside the Helm wave: the slower of the two counts.
        assert.equal(
            floorSeconds([...aws, lb("public")], "aws", "typical"),
            t["eks:index:Cluster"].typical +
                t["aws:eks/nodeGroup:NodeGroup"].typical +
                t["kubernetes:core/v1:Service#LoadBalancer"].typical,
        );
        const azure = [
            res("aks", { type: "azure-native:containerservice:ManagedCluster" }),
            res("gpu", { type: "azure-native:containerservice:AgentPool" }),
            ...helm,
            lb("public"),
        ];
        assert.equal(
            floorSeconds(azure, "azure", "typical"),
            t["azure-native:containerservice:ManagedCluster"].typical +
                Math.max(
                    t["azure-native:containerservice:AgentPool"].typical,
                    t["kubernetes:helm.sh/v3:Release"].typical,
                    t["kubernetes:core/v1:Service#LoadBalancer"].typical,
                ),
        );
        // An AWS part counts nothing on Azure, and the existing platform has only the Kubernetes stage.
        assert.equal(floorSeconds([...azure, ...aws], "azure", "typical"), floorSeconds(azure, "azure", "typical"));
        assert.equal(
            floorSeconds([...aws, lb("public")], "existing", "typical"),
            t["kubernetes:core/v1:Service#LoadBalancer"].typical,
        );
        assert.equal(floorSeconds([res("bucket")], "aws", "typical"), 0);
    });

    it("has an ordered low <= typical <= high estimate with a source for every type", () => {
        for (const [type, e] of Object.entries(CREATE_TIME_ESTIMATES)) {
            assert.ok(e.low <= e.typical && e.typical <= e.high, type);
            assert.ok(e.source.length > 0, type);
        }
        assert.equal(estimateFor({ type: "mlops-testbed:x:Component", custom: false }).estimate.typical, 0);
        assert.equal(
            estimateFor({
                type: "kubernetes:core/v1:Service",
                custom: true,
                inputs: { spec: { type: "LoadBalancer" } },
            }).estimate.typical,
            120,
        );
    });

    it("keys only Services of type LoadBalancer and Jobs running buildah apart, and falls back by prefix, then to the default", () => {
        const pod = (...images: string[]) => ({
            spec: { template: { spec: { containers: images.map((image) => ({ image })) } } },
        });
        const key = (type: string, inputs?: Record<string, unknown>) =>
            estimateKey({ type, custom: true, ...(inputs ? { inputs } : {}) });
        assert.equal(key("kubernetes:core/v1:Service", { spec: { type: "ClusterIP" } }), "kubernetes:core/v1:Service");
        assert.equal(key("kubernetes:core/v1:Service", {}), "kubernetes:core/v1:Service");
        assert.equal(key("kubernetes:core/v1:Service"), "kubernetes:core/v1:Service");
        assert.equal(
            key("kubernetes:example.com/v1:Balancer", { spec: { type: "LoadBalancer" } }),
            "kubernetes:example.com/v1:Balancer",
        );
        assert.equal(
            key("kubernetes:batch/v1:Job", pod("python:3.12", IMAGES.buildah)),
            "kubernetes:batch/v1:Job#image-build",
        );
        assert.equal(key("kubernetes:apps/v1:Deployment", pod(IMAGES.buildah)), "kubernetes:apps/v1:Deployment");
        for (const inputs of [
            undefined,
            {},
            { spec: {} },
            { spec: { template: {} } },
            { spec: { template: { spec: {} } } },
        ])
            assert.equal(key("kubernetes:batch/v1:Job", inputs), "kubernetes:batch/v1:Job");

        // An exact entry is known; so is a local component (no time of its own) and a type found by its prefix.
        assert.equal(estimateFor({ type: "aws:eks/nodeGroup:NodeGroup", custom: true }).known, true);
        assert.deepEqual(estimateFor({ type: "mlops-testbed:x:Component", custom: false }), {
            estimate: { low: 0, typical: 0, high: 0, source: "local" },
            known: true,
        });
        assert.deepEqual(estimateFor({ type: "aws:s3/bucketPolicy:BucketPolicy", custom: true }), {
            estimate: { low: 1, typical: 2, high: 5, source: "api-call" },
            known: true,
        });
        assert.deepEqual(estimateFor({ type: "azure-native:keyvault:Vault", custom: true }), {
            estimate: { low: 5, typical: 15, high: 40, source: "aks-guide" },
            known: true,
        });
        // A type that only ends like a prefix is unknown: the default, reported.
        assert.deepEqual(estimateFor({ type: "example:index:kubernetes:", custom: true }), {
            estimate: { low: 2, typical: 5, high: 15, source: "api-call" },
            known: false,
        });
    });

    it("takes the step runtime's build Job in the dev plan as an image build, other Jobs as plain Jobs", async () => {
        const jobs = (await planStack("dev")).resources.filter((r) => r.type === "kubernetes:batch/v1:Job");
        const build = jobs.filter((r) => estimateFor(r).estimate.source === "image-build");
        assert.deepEqual(
            build.map((r) => r.name),
            ["tekton-runtime-build"],
        );
        assert.equal(estimateFor(build[0]!).estimate.typical, 420);
        const job = { type: "kubernetes:batch/v1:Job", custom: true };
        const pod = (image: string) => ({ spec: { template: { spec: { containers: [{ image }] } } } });
        assert.equal(estimateFor({ ...job, inputs: pod("python:3.12") }).estimate.typical, 30);
    });

    /** Random DAGs: node i may depend on, and be parented by, nodes before it; parents are components. */
    const dags = fc
        .array(
            fc.record({
                duration: fc.integer({ min: 0, max: 600 }),
                deps: fc.array(fc.nat(), { maxLength: 4 }),
                parent: fc.option(fc.nat(), { nil: undefined }),
            }),
            {
                minLength: 1,
                maxLength: 40,
            },
        )
        .map((nodes) => {
            const isParent = new Set<number>();
            const parents = nodes.map((n, i) => (i > 0 && n.parent !== undefined ? n.parent % i : undefined));
            for (const p of parents) if (p !== undefined) isParent.add(p);
            // Like the SDK's expanded dependsOn: dependencies are resources with a create step, not components.
            const built = nodes.map((n, i) => {
                const deps = i > 0 ? [...new Set(n.deps.map((d) => d % i))].filter((d) => !isParent.has(d)) : [];
                return { i, parent: parents[i], deps, duration: n.duration };
            });
            const rs = built.map((n) =>
                res(`r${n.i}`, {
                    custom: !isParent.has(n.i),
                    parent: n.parent === undefined ? null : `r${n.parent}`,
                    dependsOn: n.deps.map((d) => `r${d}`),
                }),
            );
            const d = Object.fromEntries(built.map((n) => [`r${n.i}`, isParent.has(n.i) ? 0 : n.duration]));
            return { rs, d };
        });

    it("total equals the sum of the durations on the critical path, and lies between the longest resource and the serial sum", () => {
        fc.assert(
            fc.property(dags, ({ rs, d }) => {
                const s = schedule(rs, durations(d));
                const onPath = s.path.reduce((sum, p) => sum + p.duration, 0);
                const all = Object.values(d);
                assert.equal(onPath, s.total);
                assert.ok(s.total >= Math.max(0, ...all));
                assert.ok(s.total <= all.reduce((a, b) => a + b, 0));
                for (let k = 1; k < s.path.length; k++) assert.ok(s.path[k].start >= s.path[k - 1].finish);
            }),
        );
    });

    it("every resource starts after each of its dependencies finishes, and never before its parent starts", () => {
        fc.assert(
            fc.property(dags, ({ rs, d }) => {
                const s = schedule(rs, durations(d));
                for (const r of rs) {
                    const t = s.timings.get(r.urn)!;
                    for (const dep of r.dependsOn)
                        assert.ok(t.start >= s.timings.get(dep)!.finish, `${r.urn} after ${dep}`);
                    if (r.parent) assert.ok(t.start >= s.timings.get(r.parent)!.start);
                }
            }),
        );
    });

    it("removing dependency edges never makes the estimate longer", () => {
        fc.assert(
            fc.property(dags, fc.nat(), ({ rs, d }, pick) => {
                const r = rs[pick % rs.length];
                const before = schedule(rs, durations(d)).total;
                const after = schedule(rs, durations(d), new Map([[r.urn, new Set(r.dependsOn)]])).total;
                assert.ok(after <= before);
            }),
        );
    });

    it("runs on the dev plan: the cluster and a node group are on the critical path, at or above the floor", async () => {
        const plan = await planStack("dev");
        const report = criticalPath(plan.resources, "aws");
        const types = report.path.map((p) => p.type);
        assert.ok(types.includes("eks:index:Cluster"), types.join(", "));
        assert.ok(types.includes("aws:eks/nodeGroup:NodeGroup"), types.join(", "));
        assert.ok(report.ratios.typical !== null && report.ratios.typical >= 1);
        assert.ok(report.totals.low <= report.totals.typical && report.totals.typical <= report.totals.high);
    });

    it("reports totals, floors and ratios per profile, the serial sum, the path, what each explicit dependsOn costs and unknown types", () => {
        const rs = [
            res("cluster", { type: "eks:index:Cluster", custom: false }),
            res("ng", { type: "aws:eks/nodeGroup:NodeGroup", propertyDependencies: { clusterName: ["cluster"] } }),
            res("y-tag", { type: "test:y:Tag", dependsOn: ["cluster"] }),
            res("x-tag", { type: "test:x:Tag", dependsOn: ["cluster"] }),
            res("hook", { type: "test:x:Tag", dependsOn: ["ng"] }),
            res("release", { type: "kubernetes:helm.sh/v3:Release", dependsOn: ["ng", "hook"] }),
        ];
        // Typical: cluster 0-600, ng 600-840, the tags 600-605, hook 840-845 (an unknown type: 5 s), release 845-935.
        // Low: 540, 720, 722, 782. High: 900, 1200, 1215, 1395. Floors: cluster + node group + Helm wave.
        const report = criticalPath(rs, "aws");
        assert.equal(report.cloud, "aws");
        assert.deepEqual(report.totals, { low: 782, typical: 935, high: 1395 });
        assert.deepEqual(report.floors, { low: 780, typical: 930, high: 1380 });
        assert.deepEqual(report.ratios, { low: 782 / 780, typical: 935 / 930, high: 1395 / 1380 });
        assert.equal(report.serialSeconds, 600 + 240 + 5 + 5 + 5 + 90);
        assert.equal(report.parallelism, 945 / 935);
        assert.deepEqual(
            report.path.map((p) => [p.name, p.type, p.start, p.finish]),
            [
                ["cluster", "eks:index:Cluster", 0, 600],
                ["ng", "aws:eks/nodeGroup:NodeGroup", 600, 840],
                ["hook", "test:x:Tag", 840, 845],
                ["release", "kubernetes:helm.sh/v3:Release", 845, 935],
            ],
        );
        // Without its dependsOn the release could start at 0 and the up end with hook at 845; without its own, hook
        // would run at 0 and the release wait only for ng (930). The tags' edges cost nothing; ng has none of its own.
        assert.deepEqual(report.explicitDependencyCosts, [
            { urn: "release", name: "release", explicit: ["ng", "hook"], savedSeconds: 90 },
            { urn: "hook", name: "hook", explicit: ["ng"], savedSeconds: 5 },
            { urn: "x-tag", name: "x-tag", explicit: ["cluster"], savedSeconds: 0 },
            { urn: "y-tag", name: "y-tag", explicit: ["cluster"], savedSeconds: 0 },
        ]);
        assert.deepEqual(report.unknownTypes, ["test:x:Tag", "test:y:Tag"]);

        // Nothing that takes time and none of the floor's parts: no ratio, and nothing run side by side.
        const idle = criticalPath([res("aws", { type: "pulumi:providers:aws" })], "aws");
        assert.deepEqual(
            [idle.totals, idle.ratios, idle.serialSeconds, idle.parallelism, idle.path, idle.unknownTypes],
            [{ low: 0, typical: 0, high: 0 }, { low: null, typical: null, high: null }, 0, 1, [], []],
        );
    });

    for (const [stack, cloud] of [
        ["azure-example", "azure"],
        ["existing-example", "existing"],
    ] as const) {
        it(`runs on the ${stack} plan: its own platform's floor, at or below the estimate`, async () => {
            const report = criticalPath((await planStack(stack)).resources, cloud);
            assert.equal(report.cloud, cloud);
            for (const p of ["low", "typical", "high"] as const) {
                assert.ok(report.floors[p] > 0, `${p}: the plan has the floor's parts`);
                assert.ok(report.totals[p] >= report.floors[p], `${p}: ${report.totals[p]} < ${report.floors[p]}`);
            }
        });
    }
});
