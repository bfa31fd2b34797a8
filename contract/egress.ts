import type * as k8s from "@pulumi/kubernetes";
import { CLUSTER_PRIVATE_RANGES } from "./names";
import type { Egress } from "./platform";

/** Selects a namespace by the name label Kubernetes puts on every namespace. */
export const namespaceSelector = (name: string) => ({ matchLabels: { "kubernetes.io/metadata.name": name } });

/** The egress NetworkPolicy rule that lets a pod reach `egress`, and nothing else through that rule. */
export function egressRule(egress: Egress): k8s.types.input.networking.v1.NetworkPolicyEgressRule {
    const ports = [{ protocol: "TCP", port: egress.port }];
    switch (egress.kind) {
        case "public":
            return { to: [{ ipBlock: { cidr: "0.0.0.0/0", except: [...CLUSTER_PRIVATE_RANGES] } }], ports };
        case "address-blocks":
            return { to: egress.cidrs.map((cidr) => ({ ipBlock: { cidr } })), ports };
        case "in-cluster":
            return {
                to: [
                    {
                        namespaceSelector: namespaceSelector(egress.namespace),
                        podSelector: { matchLabels: { ...egress.podLabels } },
                    },
                ],
                ports,
            };
    }
}
