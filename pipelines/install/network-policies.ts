/**
 * The NetworkPolicies of the pipelines' event path, as plain specs: who may reach the EventListener (triggers.ts
 * creates it), and where the dataset change consumer may go (dataset-changes.ts creates it).
 */
import type * as k8s from "@pulumi/kubernetes";
import { egressRule, namespaceSelector } from "../../contract/egress";
import { DATASET_CONSUMER, EVENT_LISTENER, GATEWAY_NAMESPACE, MONITORING_NAMESPACE } from "../../contract/names";
import type { DatasetChangeConsumer } from "../../contract/platform";
import { LISTENER_POD_LABELS } from "../triggers/triggers";
import { WEBHOOK_GATEWAY } from "./webhook-gateway";

/** Alertmanager's pods (kube-prometheus-stack). */
const ALERTMANAGER_POD_LABELS = { "app.kubernetes.io/name": "alertmanager" } as const;

/** Ingress of the EventListener's pods: Alertmanager, the dataset consumer, the webhook gateway's proxies. Nothing else. */
export function listenerNetworkPolicySpec(): k8s.types.input.networking.v1.NetworkPolicySpec {
    return {
        podSelector: { matchLabels: { ...LISTENER_POD_LABELS } },
        policyTypes: ["Ingress"],
        ingress: [
            {
                from: [
                    {
                        namespaceSelector: namespaceSelector(MONITORING_NAMESPACE),
                        podSelector: { matchLabels: { ...ALERTMANAGER_POD_LABELS } },
                    },
                    { podSelector: { matchLabels: { ...DATASET_CONSUMER.podLabels } } },
                    {
                        namespaceSelector: namespaceSelector(GATEWAY_NAMESPACE),
                        podSelector: { matchLabels: { ...WEBHOOK_GATEWAY.proxyPodLabels } },
                    },
                ],
                ports: [{ protocol: "TCP", port: EVENT_LISTENER.port }],
            },
        ],
    };
}

/** Egress of the consumer's pods: DNS, the platform's source, the EventListener. Nothing else. */
export function consumerNetworkPolicySpec(
    consumer: DatasetChangeConsumer,
): k8s.types.input.networking.v1.NetworkPolicySpec {
    return {
        podSelector: { matchLabels: { ...DATASET_CONSUMER.podLabels } },
        policyTypes: ["Egress"],
        egress: [
            {
                to: [
                    {
                        namespaceSelector: namespaceSelector("kube-system"),
                        podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
                    },
                ],
                ports: [
                    { protocol: "UDP", port: 53 },
                    { protocol: "TCP", port: 53 },
                ],
            },
            egressRule(consumer.egress),
            {
                to: [{ podSelector: { matchLabels: { ...LISTENER_POD_LABELS } } }],
                ports: [{ protocol: "TCP", port: EVENT_LISTENER.port }],
            },
        ],
    };
}
