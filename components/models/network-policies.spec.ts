/**
 * The NetworkPolicies of a model version's namespace, as networkPolicySpecs builds them (no plan): the flows of
 * test/network-flows.ts evaluated against every version namespace they name, and the store's egress for each kind
 * of store a platform may have.
 */
import * as assert from "node:assert/strict";
import { CLUSTER_PRIVATE_RANGES } from "../../contract/names";
import type { Egress } from "../../contract/platform";
import { FLOWS, ext, flowAllowed, pod, server, type Endpoint, type Policy } from "../../test/network-flows";
import { ARTIFACT_STORE_POLICY, networkPolicySpecs } from "./network-policies";

/** The policies of every version namespace a flow names, each built for `egress`. */
function versionPolicies(egress: Egress, namespaces: readonly string[]): Policy[] {
    return namespaces.flatMap((namespace) =>
        Object.values(networkPolicySpecs(egress)).map((spec) => ({ namespace, spec })),
    );
}

const PUBLIC_STORE: Egress = { kind: "public", port: 443 };
const VERSION_NAMESPACES = ["iris-v1", "iris-v2", "fraud-v3", "digits-v1", "churn-blue"];

describe("model-version NetworkPolicies (networkPolicySpecs)", () => {
    // Built in each test, not once here: a mutant of the builder is active only while the tests run.
    const policies = () => versionPolicies(PUBLIC_STORE, VERSION_NAMESPACES);

    for (const [what, from, to, port, protocol, expected] of FLOWS) {
        it(`${expected ? "allows" : "denies"}: ${what}`, () => {
            assert.equal(flowAllowed(policies(), from, to, port, protocol), expected);
        });
    }

    it("names its policies, default-deny both ways first, the store's under ARTIFACT_STORE_POLICY", () => {
        const specs = networkPolicySpecs(PUBLIC_STORE);
        assert.deepEqual(Object.keys(specs), [
            "default-deny",
            "allow-dns",
            ARTIFACT_STORE_POLICY,
            "allow-metrics-from-monitoring",
            "allow-serving-from-gateway",
            "allow-smoke-tests-from-pipelines",
        ]);
        assert.equal(ARTIFACT_STORE_POLICY, "allow-artifact-store");
        assert.deepEqual(specs["default-deny"], { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
        for (const [name, spec] of Object.entries(specs))
            assert.deepEqual(spec.podSelector, {}, `${name} applies to every pod of the namespace`);
    });

    it("a public store: HTTPS anywhere outside the cluster's private, link-local and CGNAT ranges", () => {
        const [rule] = networkPolicySpecs({ kind: "public", port: 443 })[ARTIFACT_STORE_POLICY].egress as object[];
        assert.deepEqual(rule, {
            to: [{ ipBlock: { cidr: "0.0.0.0/0", except: [...CLUSTER_PRIVATE_RANGES] } }],
            ports: [{ protocol: "TCP", port: 443 }],
        });
        for (const [ip, expected] of [
            ["52.218.16.10", true],
            ["100.64.0.1", false],
            ["172.16.3.4", false],
            ["192.168.1.1", false],
            ["169.254.169.254", false],
            ["10.0.0.1", false],
        ] as const)
            assert.equal(flowAllowed(policies(), server("iris-v1"), ext(ip), 443), expected, ip);
    });

    describe("a store at listed address blocks (an external store on an existing cluster)", () => {
        const blocks: Egress = { kind: "address-blocks", cidrs: ["198.51.100.0/24", "10.9.0.0/16"], port: 9000 };
        const inBlocks = versionPolicies(blocks, ["iris-v1"]);
        const table: [string, Endpoint, number, boolean][] = [
            ["the first block on the store's port", ext("198.51.100.7"), 9000, true],
            ["the second block, even in a private range", ext("10.9.1.2"), 9000, true],
            ["another port of a listed address", ext("198.51.100.7"), 443, false],
            ["an address outside the blocks", ext("198.51.101.7"), 9000, false],
            ["HTTPS to the internet", ext("52.218.16.10"), 443, false],
        ];
        for (const [what, to, port, expected] of table) {
            it(`${expected ? "allows" : "denies"}: ${what}`, () => {
                assert.equal(flowAllowed(inBlocks, server("iris-v1"), to, port), expected);
            });
        }
    });

    describe("an in-cluster store (SeaweedFS on an existing cluster)", () => {
        const store: Egress = {
            kind: "in-cluster",
            namespace: "object-store",
            podLabels: { "app.kubernetes.io/name": "seaweedfs" },
            port: 8333,
        };
        const inCluster = versionPolicies(store, ["iris-v1"]);
        const s3 = pod("object-store", { "app.kubernetes.io/name": "seaweedfs" });
        const table: [string, Endpoint, number, boolean][] = [
            ["the store's S3 port", s3, 8333, true],
            ["another port of the store", s3, 9333, false],
            [
                "another pod of the store's namespace",
                pod("object-store", { "app.kubernetes.io/name": "filer" }),
                8333,
                false,
            ],
            [
                "the same labels in another namespace",
                pod("default", { "app.kubernetes.io/name": "seaweedfs" }),
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
