/**
 * Offline checks of the cluster tier's own logic (tools/cluster): warning parsing, Tekton param substitution,
 * dependency order, node pools from plan resources. The tier itself runs with `npm run test:cluster`.
 */
import { strict as assert } from "node:assert";
import { warningMessages } from "../tools/cluster/kube";
import { nodeObjects, nodePools, parseTaint, type PlanResource } from "../tools/cluster/nodes";
import { dependencyOrder, resolvePlaceholders } from "../tools/cluster/plan-objects";
import { resolveParams, substitute, type TaskObject } from "../tools/cluster/step-runner";
import type { TestbedConfig } from "../infra/config";
import type { Json } from "../contract/json";

const res = (
    name: string,
    dependsOn: string[] = [],
    type = "kubernetes:core/v1:ConfigMap",
    inputs: Record<string, Json> = {},
): PlanResource => ({
    urn: `urn:${name}`,
    type,
    name,
    custom: true,
    inputs,
    dependsOn: dependsOn.map((d) => `urn:${d}`),
});

describe("cluster tier tools", () => {
    it("reads every warning of a joined Warning header, with quotes and commas inside", () => {
        const header =
            '299 - "would violate PodSecurity \\"restricted:latest\\": allowPrivilegeEscalation != false, unrestricted capabilities", 299 - "unknown field \\"spec.foo\\""';
        assert.deepEqual(warningMessages(header), [
            'would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false, unrestricted capabilities',
            'unknown field "spec.foo"',
        ]);
        assert.deepEqual(warningMessages(undefined), []);
    });

    it("substitutes params and result paths as Tekton does, and refuses an unknown param", () => {
        assert.equal(
            substitute("$(params.model)-$(params.version) > $(results.version.path)", { model: "iris", version: "v2" }),
            "iris-v2 > /tekton/results/version",
        );
        assert.throws(() => substitute("$(params.nope)", {}), /\$\(params\.nope\) has no value/);
    });

    it("fills param defaults, refuses an undeclared param and a missing required one", () => {
        const task = {
            metadata: { name: "t" },
            spec: { params: [{ name: "model" }, { name: "strategy", default: "" }], steps: [] },
        } as TaskObject;
        assert.deepEqual(resolveParams(task, { model: "iris" }), { model: "iris", strategy: "" });
        assert.throws(() => resolveParams(task, { model: "iris", extra: "x" }), /declares no param extra/);
        assert.throws(() => resolveParams(task, {}), /param model has no value and no default/);
    });

    it("orders resources after their dependencies, through resources that are not objects, and finds cycles", () => {
        const order = dependencyOrder([
            res("role", ["ns"]),
            res("release", ["ns"], "kubernetes:helm.sh/v3:Release"),
            res("route", ["release"]),
            res("ns"),
        ]);
        assert.deepEqual(
            order.map((r) => r.name),
            ["ns", "role", "release", "route"],
        );
        assert.throws(() => dependencyOrder([res("a", ["b"]), res("b", ["a"])]), /dependency cycle among a, b/);
    });

    it("names an autonamed object as the plan's mock does and drops a Secret's hidden data, nothing else", () => {
        const secret = resolvePlaceholders(
            { apiVersion: "v1", kind: "Secret", metadata: { namespace: "x" }, stringData: "[secret]" },
            res("store-side"),
        );
        assert.deepEqual(secret, {
            apiVersion: "v1",
            kind: "Secret",
            metadata: { namespace: "x", name: "store-side-example" },
        });
        assert.throws(
            () =>
                resolvePlaceholders({ kind: "ConfigMap", metadata: { name: "c" }, data: { k: "[secret]" } }, res("c")),
            /secret placeholder/,
        );
    });

    it("parses AKS taints", () => {
        assert.deepEqual(parseTaint("nvidia.com/gpu=true:NoSchedule"), {
            key: "nvidia.com/gpu",
            value: "true",
            effect: "NoSchedule",
        });
        assert.deepEqual(parseTaint("dedicated:NoExecute"), { key: "dedicated", effect: "NoExecute" });
        assert.throws(() => parseTaint("nvidia.com/gpu=true"), /not key=value:Effect/);
    });

    it("makes EKS node groups into nodes: taint effects translated, GPU pools at their maximum, unknown GPU sizes refused", () => {
        const group = (name: string, instanceTypes: string[], taints: unknown[], scaling: object) =>
            res(name, [], "aws:eks/nodeGroup:NodeGroup", {
                labels: { role: name },
                taints,
                instanceTypes,
                scalingConfig: scaling,
                capacityType: "SPOT",
            });
        const pools = nodePools(
            "aws",
            [
                group("sys", ["m6i.large"], [], { desiredSize: 2, minSize: 2, maxSize: 3 }),
                group("gpu", ["g4dn.xlarge"], [{ key: "nvidia.com/gpu", value: "true", effect: "NO_SCHEDULE" }], {
                    desiredSize: 0,
                    minSize: 0,
                    maxSize: 2,
                }),
            ],
            {} as TestbedConfig,
        );
        assert.deepEqual(
            pools.map((p) => [p.name, p.role, p.nodes, p.gpusPerNode]),
            [
                ["sys", "system", 2, 0],
                ["gpu", "gpu", 2, 1],
            ],
        );
        const gpuNode = nodeObjects(pools).find((n) => n.metadata.name === "gpu-0")!;
        assert.deepEqual(gpuNode.spec.taints, [{ key: "nvidia.com/gpu", value: "true", effect: "NoSchedule" }]);
        assert.equal(gpuNode.status.allocatable["nvidia.com/gpu"], "1");
        assert.throws(
            () =>
                nodePools(
                    "aws",
                    [
                        group("sys", ["m6i.large"], [], { desiredSize: 1 }),
                        group("x", ["p9.huge"], [{ key: "nvidia.com/gpu", effect: "NO_SCHEDULE" }], { maxSize: 1 }),
                    ],
                    {} as TestbedConfig,
                ),
            /GPUs per p9\.huge unknown/,
        );
    });
});
