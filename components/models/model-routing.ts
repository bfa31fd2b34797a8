import { createHash } from "node:crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { type ModelConfig, modelNamespaceName, shadowVersions, trafficWeights } from "../../contract/config/models";
import { CHARTS } from "../../contract/versions";
import type { ClusterAddons, Scheduling } from "../../contract/platform";
import {
    GATEWAY_CLASS,
    GATEWAY_NAMESPACE,
    MODEL_GATEWAY,
    MODEL_LABEL_KEYS,
    MODEL_SERVER,
    MODEL_SERVER_PORTS,
    PART_OF,
    TRAFFIC_STRATEGY_LABEL,
} from "../../contract/names";

export interface ModelRoutingArgs {
    /** The validated `models` config: versions and traffic strategy per model. */
    readonly models: readonly ModelConfig[];
    /** Namespace resources per model and version; ReferenceGrants are created in them, routes wait for them. */
    readonly namespaces: Readonly<Record<string, Readonly<Record<string, pulumi.Resource>>>>;
    /** Envoy proxy replicas for model traffic. */
    readonly proxyReplicas: number;
    /** Where the gateway controller and proxies run (system nodes). */
    readonly scheduling: Scheduling;
    /**
     * The Gateway API implementation: `install` (the pinned Envoy Gateway release and the testbed's GatewayClass) or
     * `present` (Envoy Gateway runs already; the Gateway asks for its GatewayClass and carries its proxy settings).
     */
    readonly gateway: ClusterAddons["gateway"];
    /** What must exist before the gateway is installed (nodes able to run pods). */
    readonly dependsOn: pulumi.Input<pulumi.Resource>[];
}

/** EnvoyProxy resource that pins the proxies' Service name, replicas and scheduling. */
export const ENVOY_PROXY_CONFIG = "models-proxy";
/** Name of the ReferenceGrant in every version namespace that admits routes from the gateway namespace. */
export const REFERENCE_GRANT_NAME = "allow-model-routes";

/** Path prefix of a model on the gateway; the route strips it, so the server sees `/predict`, not `/models/iris/predict`. */
export function modelPathPrefix(model: string): string {
    return `/models/${model}`;
}

/** In-cluster URL of a model on the gateway (the Envoy Service has a fixed name; see ENVOY_PROXY_CONFIG). */
export function modelEndpoint(model: string): string {
    return `http://${MODEL_GATEWAY.serviceName}.${MODEL_GATEWAY.namespace}.svc.cluster.local${modelPathPrefix(model)}`;
}

/** Pod placement (node selector and tolerations) as the chart values and the EnvoyProxy spec both take it. */
const placement = (scheduling: Scheduling) => ({
    nodeSelector: { ...scheduling.nodeSelector },
    tolerations: [...scheduling.tolerations],
});

/** Helm values for Envoy Gateway: controller and certgen job on system nodes. Every key exists in the chart's values.yaml. */
export function envoyGatewayValues(scheduling: Scheduling) {
    return {
        deployment: { replicas: 1, pod: placement(scheduling) },
        certgen: { job: placement(scheduling) },
    };
}

const backendRef = (model: string, version: string) => ({
    name: MODEL_SERVER.name,
    namespace: modelNamespaceName(model, version),
    port: MODEL_SERVER_PORTS.http,
});

/**
 * The HTTPRoute spec of a model. canary, blue-green and single: one backendRef per version with its configured
 * weight (0 for versions not named), so a promotion only changes numbers. shadow: the serving version gets all
 * live traffic and a RequestMirror filter per other version sends it a copy (responses discarded).
 */
export function routeSpec(model: ModelConfig) {
    const weights = trafficWeights(model);
    const shadows = new Set(shadowVersions(model));
    const serving = model.versions.map((v) => v.name).filter((v) => !shadows.has(v));
    return {
        parentRefs: [
            { group: "gateway.networking.k8s.io", kind: "Gateway", name: MODEL_GATEWAY.name, sectionName: "http" },
        ],
        rules: [
            {
                matches: [{ path: { type: "PathPrefix", value: modelPathPrefix(model.name) } }],
                filters: [
                    {
                        type: "URLRewrite",
                        urlRewrite: { path: { type: "ReplacePrefixMatch", replacePrefixMatch: "/" } },
                    },
                    ...[...shadows].map((v) => ({
                        type: "RequestMirror",
                        requestMirror: { backendRef: backendRef(model.name, v) },
                    })),
                ],
                backendRefs: serving.map((v) => ({ ...backendRef(model.name, v), weight: weights[v] })),
            },
        ],
    };
}

/**
 * Name of a model's HTTPRoute: `<model>-<hash of everything but the weights>`. Weights belong to the pipelines
 * once the route exists (the program ignores changes to `spec.rules`, and nothing else of the route can change
 * without changing its name, so `pulumi up` never applies to a live route); any other change (a version added or
 * removed, another strategy or shadow) gives a new name and a new Pulumi resource, so Pulumi creates the new
 * route from config before it deletes the old one, and the older route keeps serving until then (Gateway API:
 * of two routes with the same match, the oldest wins).
 */
export function routeName(model: ModelConfig): string {
    const spec = routeSpec(model);
    // Everything the route object holds except the weights: its labels (strategy) and its spec.
    const shape = {
        strategy: model.traffic.strategy,
        spec: {
            ...spec,
            rules: spec.rules.map((r) => ({ ...r, backendRefs: r.backendRefs.map(({ weight: _w, ...ref }) => ref) })),
        },
    };
    return `${model.name}-${createHash("sha256").update(JSON.stringify(shape)).digest("hex").slice(0, 8)}`;
}

/**
 * Model traffic: Envoy Gateway (Helm, pinned), one GatewayClass and one Gateway in the `gateway` namespace, and per
 * model an HTTPRoute there whose backends are the `model-server` Services of the version namespaces (each
 * admits it with a ReferenceGrant). Routes live in the gateway namespace so the listener only accepts routes from
 * there: a model namespace cannot attach its own route.
 */
export class ModelRouting extends pulumi.ComponentResource {
    /** Model → in-cluster URL on the gateway. */
    readonly endpoints: Record<string, string>;
    readonly gateway: k8s.apiextensions.CustomResource;
    /** The `gateway` namespace, all a Service there needs (no gateway CRD). */
    readonly namespace: k8s.core.v1.Namespace;

    constructor(name: string, args: ModelRoutingArgs, opts?: pulumi.ComponentResourceOptions) {
        // The type the component had in components/k8s: the alias keeps the URNs of stacks deployed before the move.
        super(
            "mlops-testbed:models:ModelRouting",
            name,
            {},
            {
                ...opts,
                aliases: [...(opts?.aliases ?? []), { type: "mlops-testbed:k8s:ModelRouting" }],
            },
        );
        const k8sOpts = { parent: this };
        const labels = { "app.kubernetes.io/part-of": PART_OF };

        const ns = new k8s.core.v1.Namespace(
            `${name}-ns`,
            {
                metadata: {
                    name: GATEWAY_NAMESPACE,
                    labels: {
                        ...labels,
                        // Envoy Gateway's pods meet `restricted` since v1.9; enforce baseline and report anything stricter would refuse.
                        "pod-security.kubernetes.io/enforce": "baseline",
                        "pod-security.kubernetes.io/audit": "restricted",
                        "pod-security.kubernetes.io/warn": "restricted",
                    },
                },
            },
            k8sOpts,
        );
        this.namespace = ns;

        const chart = CHARTS.envoyGateway;
        // A present Envoy Gateway brings its CRDs and controller; the namespace is the testbed's either way.
        const release =
            args.gateway.mode === "install"
                ? new k8s.helm.v3.Release(
                      `${name}-envoy-gateway`,
                      {
                          name: "envoy-gateway",
                          chart: chart.chart,
                          version: chart.version,
                          namespace: ns.metadata.name,
                          createNamespace: false,
                          values: envoyGatewayValues(args.scheduling),
                      },
                      { ...k8sOpts, dependsOn: args.dependsOn },
                  )
                : ns;
        const afterCrds = { ...k8sOpts, dependsOn: [release] };

        const proxy = new k8s.apiextensions.CustomResource(
            `${name}-proxy-config`,
            {
                apiVersion: "gateway.envoyproxy.io/v1alpha1",
                kind: "EnvoyProxy",
                metadata: { name: ENVOY_PROXY_CONFIG, namespace: ns.metadata.name, labels },
                spec: {
                    provider: {
                        type: "Kubernetes",
                        kubernetes: {
                            envoyDeployment: {
                                replicas: args.proxyReplicas,
                                pod: placement(args.scheduling),
                            },
                            // A fixed name gives every model a stable in-cluster URL (modelEndpoints).
                            envoyService: { name: MODEL_GATEWAY.serviceName, type: "ClusterIP" },
                        },
                    },
                },
            },
            afterCrds,
        );

        // Installed: the testbed's GatewayClass carries the proxy settings. Present: the cluster's GatewayClass is
        // shared, so the Gateway carries them itself (infrastructure.parametersRef).
        const gatewayClassName =
            args.gateway.mode === "install"
                ? new k8s.apiextensions.CustomResource(
                      `${name}-class`,
                      {
                          apiVersion: "gateway.networking.k8s.io/v1",
                          kind: "GatewayClass",
                          metadata: { name: GATEWAY_CLASS.name, labels },
                          spec: {
                              controllerName: GATEWAY_CLASS.controllerName,
                              parametersRef: {
                                  group: "gateway.envoyproxy.io",
                                  kind: "EnvoyProxy",
                                  name: ENVOY_PROXY_CONFIG,
                                  namespace: GATEWAY_NAMESPACE,
                              },
                          },
                      },
                      { ...afterCrds, dependsOn: [release, proxy] },
                  ).metadata.name
                : pulumi.output(args.gateway.gatewayClassName);

        this.gateway = new k8s.apiextensions.CustomResource(
            `${name}-gateway`,
            {
                apiVersion: "gateway.networking.k8s.io/v1",
                kind: "Gateway",
                metadata: { name: MODEL_GATEWAY.name, namespace: ns.metadata.name, labels },
                spec: {
                    gatewayClassName,
                    ...(args.gateway.mode === "present"
                        ? {
                              infrastructure: {
                                  parametersRef: {
                                      group: "gateway.envoyproxy.io",
                                      kind: "EnvoyProxy",
                                      name: ENVOY_PROXY_CONFIG,
                                  },
                              },
                          }
                        : {}),
                    listeners: [
                        {
                            name: "http",
                            protocol: "HTTP",
                            port: MODEL_GATEWAY.port,
                            allowedRoutes: {
                                namespaces: { from: "Same" },
                                kinds: [{ group: "gateway.networking.k8s.io", kind: "HTTPRoute" }],
                            },
                        },
                    ],
                },
            },
            afterCrds,
        );

        this.endpoints = {};
        for (const model of args.models) {
            const versionNamespaces = args.namespaces[model.name] ?? {};
            const grants = model.versions.map((v) => {
                const versionNs = versionNamespaces[v.name];
                if (!versionNs) throw new Error(`ModelRouting: no namespace given for ${model.name}/${v.name}`);
                return new k8s.apiextensions.CustomResource(
                    `${name}-${model.name}-${v.name}-grant`,
                    {
                        apiVersion: "gateway.networking.k8s.io/v1",
                        kind: "ReferenceGrant",
                        metadata: {
                            name: REFERENCE_GRANT_NAME,
                            namespace: modelNamespaceName(model.name, v.name),
                            labels: {
                                ...labels,
                                [MODEL_LABEL_KEYS.model]: model.name,
                                [MODEL_LABEL_KEYS.version]: v.name,
                            },
                        },
                        spec: {
                            from: [
                                { group: "gateway.networking.k8s.io", kind: "HTTPRoute", namespace: GATEWAY_NAMESPACE },
                            ],
                            to: [{ group: "", kind: "Service", name: MODEL_SERVER.name }],
                        },
                    },
                    { ...k8sOpts, dependsOn: [release, versionNs] },
                );
            });
            const route = routeName(model);
            // The logical name carries the shape hash too: a new shape is a new resource created from config (a
            // replacement would inherit the ignored old rules), and the old route is deleted after it.
            new k8s.apiextensions.CustomResource(
                `${name}-route-${route}`,
                {
                    apiVersion: "gateway.networking.k8s.io/v1",
                    kind: "HTTPRoute",
                    metadata: {
                        name: route,
                        namespace: ns.metadata.name,
                        labels: {
                            ...labels,
                            [MODEL_LABEL_KEYS.model]: model.name,
                            [TRAFFIC_STRATEGY_LABEL]: model.traffic.strategy,
                        },
                    },
                    spec: routeSpec(model),
                },
                {
                    ...k8sOpts,
                    dependsOn: [this.gateway, ...grants],
                    // Weights are the pipelines' after creation: never reset them on `pulumi up` (see routeName).
                    ignoreChanges: ["spec.rules"],
                },
            );
            this.endpoints[model.name] = modelEndpoint(model.name);
        }

        this.registerOutputs({ endpoints: this.endpoints });
    }
}
