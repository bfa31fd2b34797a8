/**
 * The NetworkPolicies of the pipelines' event path, as the builders make them (no plan): who may post to the
 * EventListener (the flows of test/network-flows.ts), and where the dataset change consumer may go, for each kind
 * of source a platform may give it.
 */
import * as assert from "node:assert/strict";
import type { DatasetChangeConsumer, Egress } from "../../contract/platform";
import {
    LISTENER_FLOWS,
    datasetConsumer,
    ext,
    flowAllowed,
    kubeDns,
    listener,
    pod,
    prometheus,
    type Endpoint,
    type Policy,
} from "../../test/network-flows";
import { consumerNetworkPolicySpec, listenerNetworkPolicySpec } from "./network-policies";

const inPipelines = (spec: object): Policy => ({ namespace: "pipelines", spec });
const consumer = (egress: Egress): DatasetChangeConsumer => ({
    containers: [],
    volumes: [],
    scripts: {},
    egress,
    identity: false,
});

describe("the EventListener's ingress (listenerNetworkPolicySpec)", () => {
    // Built in each test, not once here: a mutant of the builder is active only while the tests run.
    const policies = () => [inPipelines(listenerNetworkPolicySpec())];
    for (const [what, from, to, port, protocol, expected] of LISTENER_FLOWS) {
        it(`${expected ? "allows" : "denies"}: ${what}`, () => {
            assert.equal(flowAllowed(policies(), from, to, port, protocol), expected);
        });
    }

    it("selects the listener's pods only: other pods of pipelines keep their own ingress", () => {
        assert.equal(flowAllowed(policies(), prometheus, pod("pipelines", { app: "other" }), 8080), true);
        assert.deepEqual(listenerNetworkPolicySpec().policyTypes, ["Ingress"]);
    });
});

describe("the dataset change consumer's egress (consumerNetworkPolicySpec)", () => {
    const sources: [string, Egress, Endpoint, number][] = [
        ["a public queue (SQS, Storage Queue) over HTTPS", { kind: "public", port: 443 }, ext("52.94.1.1"), 443],
        [
            "a filer at listed addresses",
            { kind: "address-blocks", cidrs: ["198.51.100.0/24"], port: 8888 },
            ext("198.51.100.20"),
            8888,
        ],
        [
            "SeaweedFS's filer in the cluster",
            {
                kind: "in-cluster",
                namespace: "object-store",
                podLabels: { "app.kubernetes.io/name": "seaweedfs-filer" },
                port: 18888,
            },
            pod("object-store", { "app.kubernetes.io/name": "seaweedfs-filer" }),
            18888,
        ],
    ];
    for (const [what, egress, source, port] of sources) {
        describe(what, () => {
            const policies = () => [
                inPipelines(consumerNetworkPolicySpec(consumer(egress))),
                inPipelines(listenerNetworkPolicySpec()),
            ];
            const table: [string, Endpoint, number, string, boolean][] = [
                ["its source", source, port, "TCP", true],
                ["its source on another port", source, port + 1, "TCP", false],
                ["DNS over UDP to kube-dns", kubeDns, 53, "UDP", true],
                ["DNS over TCP to kube-dns", kubeDns, 53, "TCP", true],
                [
                    "port 53 of another kube-system pod",
                    pod("kube-system", { "k8s-app": "coredns-autoscaler" }),
                    53,
                    "UDP",
                    false,
                ],
                ["kube-dns on another port", kubeDns, 9153, "TCP", false],
                [
                    "port 53 of a pod labelled kube-dns outside kube-system",
                    pod("default", kubeDns.labels),
                    53,
                    "UDP",
                    false,
                ],
                ["another pod on its source's port", pod("object-store", { app: "other" }), port, "TCP", false],
                [
                    "a pod with its source's labels in another namespace",
                    pod("default", { "app.kubernetes.io/name": "seaweedfs-filer" }),
                    port,
                    "TCP",
                    false,
                ],
                ["the EventListener", listener, 8080, "TCP", true],
                ["another port of the EventListener", listener, 9000, "TCP", false],
                [
                    "another pod of pipelines on the EventListener's port",
                    pod("pipelines", { app: "other" }),
                    8080,
                    "TCP",
                    false,
                ],
                ["Prometheus", prometheus, 9090, "TCP", false],
                ["the instance metadata service", ext("169.254.169.254"), 80, "TCP", false],
            ];
            for (const [to, dst, p, protocol, expected] of table) {
                it(`${expected ? "reaches" : "cannot reach"} ${to}`, () => {
                    assert.equal(flowAllowed(policies(), datasetConsumer, dst, p, protocol), expected);
                });
            }
        });
    }

    it("limits the EventListener to its port by itself, without the listener's ingress policy", () => {
        const alone = () => [inPipelines(consumerNetworkPolicySpec(consumer({ kind: "public", port: 443 })))];
        assert.equal(flowAllowed(alone(), datasetConsumer, listener, 8080), true);
        assert.equal(flowAllowed(alone(), datasetConsumer, listener, 9000), false);
    });

    it("limits the consumer's pods only, and egress only", () => {
        const spec = consumerNetworkPolicySpec(consumer({ kind: "public", port: 443 }));
        assert.deepEqual(spec.podSelector, { matchLabels: { "app.kubernetes.io/name": "dataset-events" } });
        assert.deepEqual(spec.policyTypes, ["Egress"]);
    });
});
