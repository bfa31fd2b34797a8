/**
 * The NetworkPolicies of a model version's namespace, as plain specs (the component in model-version-namespace.ts
 * creates them): deny everything, then the few flows a model server needs.
 */
import type * as k8s from "@pulumi/kubernetes";
import { egressRule, namespaceSelector as nsSelector } from "../../contract/egress";
import {
    GATEWAY_NAMESPACE,
    MODEL_GATEWAY,
    MODEL_SERVER_PORTS,
    MONITORING_NAMESPACE,
    PIPELINES_NAMESPACE,
    PROMETHEUS_POD_LABELS,
    SMOKE_TEST_POD_LABELS,
} from "../../contract/names";
import type { Egress } from "../../contract/platform";

/** The NetworkPolicy that lets a version namespace reach the artifact store: its peers are the platform's. */
export const ARTIFACT_STORE_POLICY = "allow-artifact-store";

type NetworkPolicySpec = k8s.types.input.networking.v1.NetworkPolicySpec;

/**
 * The NetworkPolicies of a version namespace, by name: deny everything, then allow DNS, the artifact store,
 * metrics scrapes from monitoring, model traffic from the gateway's proxies and smoke tests from the pipelines.
 * No rule admits another model version's namespace.
 */
export function networkPolicySpecs(egress: Egress): Record<string, NetworkPolicySpec> {
    const store = egressRule(egress);
    return {
        "default-deny": { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
        "allow-dns": {
            podSelector: {},
            policyTypes: ["Egress"],
            egress: [
                {
                    to: [
                        {
                            namespaceSelector: nsSelector("kube-system"),
                            podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
                        },
                    ],
                    ports: [
                        { protocol: "UDP", port: 53 },
                        { protocol: "TCP", port: 53 },
                    ],
                },
            ],
        },
        [ARTIFACT_STORE_POLICY]: { podSelector: {}, policyTypes: ["Egress"], egress: [store] },
        "allow-metrics-from-monitoring": {
            podSelector: {},
            policyTypes: ["Ingress"],
            ingress: [
                {
                    // Prometheus only: Grafana, Alertmanager and the exporters in monitoring have no business here.
                    from: [
                        {
                            namespaceSelector: nsSelector(MONITORING_NAMESPACE),
                            podSelector: { matchLabels: { ...PROMETHEUS_POD_LABELS } },
                        },
                    ],
                    ports: [{ protocol: "TCP", port: MODEL_SERVER_PORTS.metrics }],
                },
            ],
        },
        "allow-serving-from-gateway": {
            podSelector: {},
            policyTypes: ["Ingress"],
            ingress: [
                {
                    from: [
                        {
                            namespaceSelector: nsSelector(GATEWAY_NAMESPACE),
                            podSelector: { matchLabels: { ...MODEL_GATEWAY.proxyPodLabels } },
                        },
                    ],
                    ports: [{ protocol: "TCP", port: MODEL_SERVER_PORTS.http }],
                },
            ],
        },
        "allow-smoke-tests-from-pipelines": {
            podSelector: {},
            policyTypes: ["Ingress"],
            ingress: [
                {
                    // The smoke test's pods only: trainer pods run the model repository's code and stay out.
                    from: [
                        {
                            namespaceSelector: nsSelector(PIPELINES_NAMESPACE),
                            podSelector: { matchLabels: { ...SMOKE_TEST_POD_LABELS } },
                        },
                    ],
                    ports: [{ protocol: "TCP", port: MODEL_SERVER_PORTS.http }],
                },
            ],
        },
    };
}
