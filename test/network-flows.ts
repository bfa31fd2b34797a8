/**
 * Network isolation as behaviour: a small NetworkPolicy evaluator (Kubernetes semantics: a pod selected by any
 * policy of a type is isolated for that direction, and a flow is allowed if some rule of a selecting policy
 * admits it; a flow needs both the source's egress and the destination's ingress), the pods of the testbed as
 * endpoints, and the table of flows that must be allowed or denied. test/network-policy.spec.ts runs it against the
 * NetworkPolicies the plan renders; the builders' own specs against the specs they build.
 */
import { ipToInt } from "../contract/ipv4";
import type { Json } from "./json";

export type Labels = Record<string, string>;
export interface Pod {
    kind: "pod";
    namespace: string;
    labels: Labels;
    ip: string;
}
export interface External {
    kind: "external";
    ip: string;
}
export type Endpoint = Pod | External;
export interface Policy {
    namespace: string;
    spec: Json;
}

function matchesSelector(selector: Json, labels: Labels): boolean {
    if (!selector) return true;
    for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
    for (const e of selector.matchExpressions ?? []) {
        const has = e.key in labels;
        const ok =
            e.operator === "In"
                ? has && e.values.includes(labels[e.key])
                : e.operator === "NotIn"
                  ? !has || !e.values.includes(labels[e.key])
                  : e.operator === "Exists"
                    ? has
                    : e.operator === "DoesNotExist"
                      ? !has
                      : (() => {
                            throw new Error(`operator ${e.operator}`);
                        })();
        if (!ok) return false;
    }
    return true;
}

function inCidr(ip: string, cidr: string): boolean {
    const [base, bits] = cidr.split("/");
    const size = 2 ** (32 - Number(bits));
    return Math.floor(ipToInt(ip) / size) === Math.floor(ipToInt(base) / size);
}

const nsLabels = (ns: string): Labels => ({ "kubernetes.io/metadata.name": ns });

/** Whether a peer of a rule in a policy of `policyNs` matches the endpoint. */
function peerMatches(peer: Json, policyNs: string, ep: Endpoint): boolean {
    if (peer.ipBlock) {
        // Kubernetes: ipBlock is for addresses outside the cluster; pod IPs are treated as not matching.
        if (ep.kind !== "external") return false;
        return inCidr(ep.ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((c: string) => inCidr(ep.ip, c));
    }
    if (ep.kind !== "pod") return false;
    const nsOk = peer.namespaceSelector
        ? matchesSelector(peer.namespaceSelector, nsLabels(ep.namespace))
        : ep.namespace === policyNs;
    const podOk = peer.podSelector ? matchesSelector(peer.podSelector, ep.labels) : true;
    return nsOk && podOk;
}

function portMatches(ports: Json[] | undefined, port: number, protocol: string): boolean {
    if (!ports || ports.length === 0) return true;
    return ports.some(
        (p) =>
            (p.protocol ?? "TCP") === protocol &&
            (p.port === undefined || (p.endPort ? port >= p.port && port <= p.endPort : p.port === port)),
    );
}

function allowedDirection(
    policies: Policy[],
    pod: Pod,
    dir: "Ingress" | "Egress",
    other: Endpoint,
    port: number,
    protocol: string,
): boolean {
    const selecting = policies.filter(
        (p) =>
            p.namespace === pod.namespace &&
            matchesSelector(p.spec.podSelector, pod.labels) &&
            (p.spec.policyTypes ?? ["Ingress"]).includes(dir),
    );
    if (selecting.length === 0) return true;
    const rulesKey = dir === "Ingress" ? "ingress" : "egress";
    const peersKey = dir === "Ingress" ? "from" : "to";
    return selecting.some((p) =>
        (p.spec[rulesKey] ?? []).some((rule: Json) => {
            const peers: Json[] | undefined = rule[peersKey];
            const peerOk = !peers || peers.length === 0 || peers.some((peer) => peerMatches(peer, p.namespace, other));
            return peerOk && portMatches(rule.ports, port, protocol);
        }),
    );
}

/** Whether traffic from `src` reaches `dst` on port/protocol under the policies (egress of src and ingress of dst). */
export function flowAllowed(policies: Policy[], src: Endpoint, dst: Endpoint, port: number, protocol = "TCP"): boolean {
    const egressOk = src.kind === "external" || allowedDirection(policies, src, "Egress", dst, port, protocol);
    const ingressOk = dst.kind === "external" || allowedDirection(policies, dst, "Ingress", src, port, protocol);
    return egressOk && ingressOk;
}

export const pod = (namespace: string, labels: Labels = {}, ip = "10.20.5.5"): Pod => ({
    kind: "pod",
    namespace,
    labels,
    ip,
});
export const ext = (ip: string): External => ({ kind: "external", ip });
export const server = (ns: string) => pod(ns, { "app.kubernetes.io/name": "model-server" }, "10.20.9.9");
export const envoy = pod("gateway", {
    "gateway.envoyproxy.io/owning-gateway-name": "models",
    "gateway.envoyproxy.io/owning-gateway-namespace": "gateway",
    "app.kubernetes.io/name": "envoy",
});
export const prometheus = pod("monitoring", { "app.kubernetes.io/name": "prometheus" });
export const smokeTest = pod("pipelines", { "tekton.dev/task": "smoke-test" });
export const kubeDns = pod("kube-system", { "k8s-app": "kube-dns" });
export const listener = pod("pipelines", {
    eventlistener: "mlops-testbed",
    "app.kubernetes.io/managed-by": "EventListener",
});
export const alertmanager = pod("monitoring", { "app.kubernetes.io/name": "alertmanager" });
export const datasetConsumer = pod("pipelines", { "app.kubernetes.io/name": "dataset-events" });
export const webhookEnvoy = pod("gateway", {
    "gateway.envoyproxy.io/owning-gateway-name": "webhooks",
    "gateway.envoyproxy.io/owning-gateway-namespace": "gateway",
});

/** [description, from, to, port, protocol, expected]. */
export type Flow = [string, Endpoint, Endpoint, number, string, boolean];

/** Flows into, out of and between model-version namespaces (the artifact store is a public cloud service). */
export const FLOWS: Flow[] = [
    ["monitoring scrapes metrics", prometheus, server("iris-v1"), 9090, "TCP", true],
    ["monitoring cannot call the serving port", prometheus, server("iris-v1"), 8080, "TCP", false],
    ["the gateway's Envoy proxy serves traffic", envoy, server("iris-v1"), 8080, "TCP", true],
    ["the gateway's Envoy proxy mirrors to a shadow", envoy, server("fraud-v3"), 8080, "TCP", true],
    ["the gateway's Envoy proxy cannot scrape metrics", envoy, server("iris-v1"), 9090, "TCP", false],
    [
        "another pod in the gateway namespace is refused",
        pod("gateway", { "app.kubernetes.io/name": "envoy-gateway" }),
        server("iris-v1"),
        8080,
        "TCP",
        false,
    ],
    ["pipelines smoke-test the serving port", smokeTest, server("iris-v2"), 8080, "TCP", true],
    [
        "a trainer pod in pipelines (repository code) cannot call the serving port",
        pod("pipelines", { "tekton.dev/task": "train" }),
        server("iris-v2"),
        8080,
        "TCP",
        false,
    ],
    [
        "Grafana in monitoring cannot scrape the metrics port",
        pod("monitoring", { "app.kubernetes.io/name": "grafana" }),
        server("iris-v1"),
        9090,
        "TCP",
        false,
    ],
    ["pipelines cannot reach other ports", smokeTest, server("iris-v2"), 22, "TCP", false],
    ["another version of the same model is refused", server("iris-v2"), server("iris-v1"), 8080, "TCP", false],
    ["another model's version is refused", server("digits-v1"), server("iris-v1"), 8080, "TCP", false],
    ["another model cannot scrape metrics", server("churn-blue"), server("iris-v1"), 9090, "TCP", false],
    [
        "pods in the same version namespace do not talk to each other",
        pod("iris-v1", { app: "debug" }),
        server("iris-v1"),
        8080,
        "TCP",
        false,
    ],
    ["the default namespace is refused", pod("default"), server("iris-v1"), 8080, "TCP", false],
    ["the internet is refused", ext("203.0.113.7"), server("iris-v1"), 8080, "TCP", false],
    ["DNS over UDP to kube-dns", server("iris-v1"), kubeDns, 53, "UDP", true],
    ["DNS over TCP to kube-dns", server("iris-v1"), kubeDns, 53, "TCP", true],
    [
        "port 53 to anything else in kube-system is refused",
        server("iris-v1"),
        pod("kube-system", { "k8s-app": "metrics-server" }),
        53,
        "UDP",
        false,
    ],
    ["kube-dns on another port (its metrics) is refused", server("iris-v1"), kubeDns, 9153, "TCP", false],
    [
        "port 53 of a pod labelled kube-dns outside kube-system is refused",
        server("iris-v1"),
        pod("default", { "k8s-app": "kube-dns" }),
        53,
        "UDP",
        false,
    ],
    ["HTTPS to the cloud artifact store (S3)", server("iris-v1"), ext("52.218.16.10"), 443, "TCP", true],
    ["plain HTTP to the internet is refused", server("iris-v1"), ext("52.218.16.10"), 80, "TCP", false],
    ["the instance metadata service is refused", server("iris-v1"), ext("169.254.169.254"), 80, "TCP", false],
    ["HTTPS into the VPC's private range is refused", server("iris-v1"), ext("10.20.1.5"), 443, "TCP", false],
    ["a version cannot call the gateway", server("iris-v1"), envoy, 8080, "TCP", false],
    ["a version cannot call another version", server("iris-v1"), server("iris-v2"), 8080, "TCP", false],
    ["a version cannot reach the pipelines", server("iris-v1"), smokeTest, 8080, "TCP", false],
    ["a version cannot reach monitoring", server("iris-v1"), prometheus, 9090, "TCP", false],
];

/** Flows into the pipelines' EventListener. */
export const LISTENER_FLOWS: Flow[] = [
    ["Alertmanager posts retrain alerts to the EventListener", alertmanager, listener, 8080, "TCP", true],
    ["the dataset consumer forwards events to the EventListener", datasetConsumer, listener, 8080, "TCP", true],
    [
        "the webhook gateway's proxy forwards GitHub's push to the EventListener",
        webhookEnvoy,
        listener,
        8080,
        "TCP",
        true,
    ],
    ["Prometheus cannot post to the EventListener", prometheus, listener, 8080, "TCP", false],
    ["the model gateway's proxy cannot reach the EventListener", envoy, listener, 8080, "TCP", false],
    ["a model version cannot start pipelines", server("iris-v1"), listener, 8080, "TCP", false],
    ["another pod in pipelines cannot post to the EventListener", smokeTest, listener, 8080, "TCP", false],
    ["the internet cannot reach the EventListener directly", ext("203.0.113.7"), listener, 8080, "TCP", false],
    ["Alertmanager cannot reach another port of the EventListener", alertmanager, listener, 9000, "TCP", false],
];
