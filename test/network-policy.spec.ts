/**
 * Network isolation as behaviour, against the NetworkPolicies the plan renders: the flows of test/network-flows.ts
 * (between model versions, into them, out to the store, into the EventListener) evaluated with Kubernetes semantics.
 */
import * as assert from "node:assert/strict";
import { networkPolicySpecs } from "../components/models/network-policies";
import type { Plan } from "../tools/mock-runtime";
import { planStack } from "./harness";
import { type K8sObject, objectsOfKind } from "./k8s-objects";
import { MODELS } from "./model-fixtures";
import { FLOWS, LISTENER_FLOWS, ext, flowAllowed, pod, server, type Endpoint, type Policy } from "./network-flows";

describe("NetworkPolicies of model-version namespaces (evaluated flows)", () => {
    let plan: Plan;
    let policies: Policy[];
    before(async () => {
        plan = await planStack("dev", { models: MODELS });
        policies = objectsOfKind(plan, "NetworkPolicy").map((o: K8sObject) => ({
            namespace: o.metadata.namespace!,
            spec: o.spec,
        }));
    });

    it("renders the policies of every version namespace and of the pipelines' EventListener", () => {
        const namespaces = new Set(policies.map((p) => p.namespace));
        assert.deepEqual(
            [...namespaces].sort(),
            [...MODELS.flatMap((m) => m.versions.map((v) => `${m.name}-${v.name}`)), "pipelines"].sort(),
        );
    });

    for (const [what, from, to, port, protocol, expected] of [...FLOWS, ...LISTENER_FLOWS]) {
        it(`${expected ? "allows" : "denies"}: ${what}`, () => {
            assert.equal(flowAllowed(policies, from, to, port, protocol), expected);
        });
    }

    it("the evaluator is not vacuous: one allow-all ingress policy would open cross-version traffic", () => {
        const opened = [
            ...policies,
            { namespace: "iris-v1", spec: { podSelector: {}, policyTypes: ["Ingress"], ingress: [{}] } },
        ];
        assert.equal(flowAllowed(policies, server("iris-v2"), server("iris-v1"), 8080, "TCP"), false);
        assert.equal(flowAllowed(opened, pod("default"), server("iris-v1"), 8080, "TCP"), true);
    });

    describe("with an in-cluster artifact store (existing clusters)", () => {
        const store = {
            kind: "in-cluster" as const,
            namespace: "artifact-store",
            podLabels: { "app.kubernetes.io/name": "seaweedfs" },
            port: 8333,
        };
        const inCluster: Policy[] = Object.values(networkPolicySpecs(store)).map((spec) => ({
            namespace: "iris-v1",
            spec,
        }));
        const s3 = pod("artifact-store", { "app.kubernetes.io/name": "seaweedfs" });
        const table: [string, Endpoint, number, boolean][] = [
            ["the store's S3 port", s3, 8333, true],
            ["another port of the store", s3, 9333, false],
            [
                "another pod of the store's namespace",
                pod("artifact-store", { "app.kubernetes.io/name": "filer" }),
                8333,
                false,
            ],
            ["HTTPS to the internet", ext("52.218.16.10"), 443, false],
        ];
        for (const [what, to, port, expected] of table) {
            it(`${expected ? "allows" : "denies"}: ${what}`, () => {
                assert.equal(flowAllowed(inCluster, server("iris-v1"), to, port), expected);
            });
        }
    });
});
