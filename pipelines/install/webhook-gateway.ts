import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { EVENT_LISTENER, GATEWAY_NAMESPACE, PART_OF, PIPELINES_NAMESPACE } from "../../contract/names";
import type { Scheduling } from "../../contract/platform";
import { GIT_WEBHOOK_PATH, SOURCE_HEADER } from "../triggers/triggers";

/** The Gateway that takes GitHub's webhook from outside, and its proxies' Service names. */
export const WEBHOOK_GATEWAY = {
    name: "webhooks",
    namespace: GATEWAY_NAMESPACE,
    /** Listener port (over 1024, so Envoy listens on it as is and the public Service can target it). */
    port: 8080,
    proxyConfig: "webhooks-proxy",
    /** ClusterIP Service Envoy Gateway creates for the proxies (named so it cannot clash with the model gateway's). */
    internalServiceName: "webhooks-gateway-internal",
    /** The public LoadBalancer Service in front of the proxies (ours, so its address is a stack output). */
    publicServiceName: "webhooks-public",
    proxyPodLabels: {
        "gateway.envoyproxy.io/owning-gateway-name": "webhooks",
        "gateway.envoyproxy.io/owning-gateway-namespace": GATEWAY_NAMESPACE,
    },
} as const;

/** The route of GitHub's webhook: exactly POST /hooks/git, stamped with SOURCE_HEADER, to the EventListener. */
export function gitWebhookRouteSpec() {
    return {
        parentRefs: [
            { group: "gateway.networking.k8s.io", kind: "Gateway", name: WEBHOOK_GATEWAY.name, sectionName: "http" },
        ],
        rules: [
            {
                matches: [{ path: { type: "Exact", value: GIT_WEBHOOK_PATH }, method: "POST" }],
                filters: [
                    {
                        type: "RequestHeaderModifier",
                        requestHeaderModifier: { set: [{ name: SOURCE_HEADER.name, value: SOURCE_HEADER.value }] },
                    },
                    { type: "URLRewrite", urlRewrite: { path: { type: "ReplaceFullPath", replaceFullPath: "/" } } },
                ],
                backendRefs: [
                    { name: `el-${EVENT_LISTENER.name}`, namespace: PIPELINES_NAMESPACE, port: EVENT_LISTENER.port },
                ],
            },
        ],
    };
}

export interface WebhookGatewayArgs {
    /** Where the gateway's proxies run (system nodes). */
    readonly scheduling: Scheduling;
    /** The GatewayClass the Gateway asks for (the model gateway's). */
    readonly gatewayClassName: string;
    /**
     * What the Gateway, its proxies and the public Service need: the gateway implementation (its CRDs, the
     * GatewayClass, the `gateway` namespace), not the Tekton install; so the load balancer is provisioned while
     * Tekton installs.
     */
    readonly gatewayReady: pulumi.Input<pulumi.Resource>[];
    /** What the route and the ReferenceGrant need: the Tekton Triggers install and the pipelines namespace. */
    readonly pipelinesReady: pulumi.Input<pulumi.Resource>[];
    /** The EventListener the route leads to. */
    readonly listener: pulumi.Resource;
}

/**
 * The only way in from outside: a Gateway of its own with its own proxies (EnvoyProxy), one route (POST /hooks/git
 * to the EventListener, stamped so in-cluster triggers can tell it came from outside), the ReferenceGrant that
 * admits it in the pipelines namespace, and a public LoadBalancer Service in front of the proxies. Every object keeps
 * the URN it had as a direct child of the triggers component (aliases), so moving it here replaces nothing (the
 * load balancer, whose address GitHub calls, above all).
 */
export class WebhookGateway extends pulumi.ComponentResource {
    readonly url: pulumi.Output<string>;

    constructor(name: string, args: WebhookGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlops-testbed:pipelines:WebhookGateway", name, {}, opts);
        const before = { parent: opts?.parent };
        const child = { parent: this, aliases: [before] };
        const labels = { "app.kubernetes.io/part-of": PART_OF };
        const meta = (n: string, namespace: string) => ({ name: n, namespace, labels });
        const { scheduling } = args;

        const proxy = new k8s.apiextensions.CustomResource(
            `${name}-proxy`,
            {
                apiVersion: "gateway.envoyproxy.io/v1alpha1",
                kind: "EnvoyProxy",
                metadata: meta(WEBHOOK_GATEWAY.proxyConfig, GATEWAY_NAMESPACE),
                spec: {
                    provider: {
                        type: "Kubernetes",
                        kubernetes: {
                            envoyDeployment: {
                                replicas: 1,
                                pod: {
                                    nodeSelector: { ...scheduling.nodeSelector },
                                    tolerations: [...scheduling.tolerations],
                                },
                            },
                            envoyService: { name: WEBHOOK_GATEWAY.internalServiceName, type: "ClusterIP" },
                        },
                    },
                },
            },
            { ...child, dependsOn: args.gatewayReady },
        );
        const gateway = new k8s.apiextensions.CustomResource(
            `${name}-gateway`,
            {
                apiVersion: "gateway.networking.k8s.io/v1",
                kind: "Gateway",
                metadata: meta(WEBHOOK_GATEWAY.name, GATEWAY_NAMESPACE),
                spec: {
                    gatewayClassName: args.gatewayClassName,
                    infrastructure: {
                        parametersRef: {
                            group: "gateway.envoyproxy.io",
                            kind: "EnvoyProxy",
                            name: WEBHOOK_GATEWAY.proxyConfig,
                        },
                    },
                    listeners: [
                        {
                            name: "http",
                            protocol: "HTTP",
                            port: WEBHOOK_GATEWAY.port,
                            allowedRoutes: {
                                namespaces: { from: "Same" },
                                kinds: [{ group: "gateway.networking.k8s.io", kind: "HTTPRoute" }],
                            },
                        },
                    ],
                },
            },
            { ...child, dependsOn: [...args.gatewayReady, proxy] },
        );
        new k8s.apiextensions.CustomResource(
            `${name}-grant`,
            {
                apiVersion: "gateway.networking.k8s.io/v1",
                kind: "ReferenceGrant",
                metadata: meta("allow-git-webhook-route", PIPELINES_NAMESPACE),
                spec: {
                    from: [{ group: "gateway.networking.k8s.io", kind: "HTTPRoute", namespace: GATEWAY_NAMESPACE }],
                    to: [{ group: "", kind: "Service", name: `el-${EVENT_LISTENER.name}` }],
                },
            },
            { ...child, dependsOn: args.pipelinesReady },
        );
        new k8s.apiextensions.CustomResource(
            `${name}-route`,
            {
                apiVersion: "gateway.networking.k8s.io/v1",
                kind: "HTTPRoute",
                metadata: meta("git-webhook", GATEWAY_NAMESPACE),
                spec: gitWebhookRouteSpec(),
            },
            {
                ...child,
                aliases: [{ ...before, name: name.replace(/-webhook$/, "-git-webhook-route") }],
                dependsOn: [...args.pipelinesReady, gateway, args.listener],
            },
        );
        const publicSvc = new k8s.core.v1.Service(
            `${name}-public`,
            {
                metadata: meta(WEBHOOK_GATEWAY.publicServiceName, GATEWAY_NAMESPACE),
                spec: {
                    type: "LoadBalancer",
                    selector: { ...WEBHOOK_GATEWAY.proxyPodLabels },
                    ports: [{ name: "http", port: 80, targetPort: WEBHOOK_GATEWAY.port, protocol: "TCP" }],
                },
            },
            { ...child, dependsOn: [...args.gatewayReady, gateway] },
        );
        this.url = publicSvc.status.apply((s) => {
            const ingress = s?.loadBalancer?.ingress?.[0];
            return `http://${ingress?.hostname || ingress?.ip || "<pending>"}${GIT_WEBHOOK_PATH}`;
        });
        this.registerOutputs({ url: this.url });
    }
}
