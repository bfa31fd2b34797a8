import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import {
    GIT_WEBHOOK_PATH,
    GIT_WEBHOOK_SECRET,
    LISTENER_POD_LABELS,
    LISTENER_SERVICE_ACCOUNT,
    SOURCE_HEADER,
    TRIGGER_KINDS,
    eventListener,
    trainAndDeployTemplate,
    triggerBindings,
} from "../../pipelines/triggers/triggers";
import { IMAGES } from "../../infra/versions";
import type { Pipeline, TaskLike } from "../../pipelines/tekton";
import type { DatasetChangeSource, Platform } from "../platform";
import { GATEWAY_CLASS } from "./model-routing";
import { EVENT_LISTENER, EVENT_LISTENER_URL, GATEWAY_NAMESPACE, MONITORING_NAMESPACE, PART_OF, PIPELINES_NAMESPACE } from "./constants";

export interface PipelineTriggersArgs {
    /** Names of the configured models; each gets its git, dataset and alert trigger. */
    readonly models: readonly string[];
    /** The platform: Kubernetes provider, system scheduling, dataset change source, workload identities. */
    readonly platform: Platform;
    /** The train-and-deploy Pipeline every trigger starts, every Task it references, and GPUs per training run. */
    readonly run: { readonly pipeline: Pipeline; readonly tasks: readonly TaskLike[]; readonly trainingGpus: number };
    /** Repository dataset and alert triggers build from (`pipelines.sourceRepository`); absent: only the git trigger. */
    readonly sourceRepository?: string;
    /** What must exist first: the Tekton Triggers install (CRDs, interceptors) and the pipelines namespace. */
    readonly dependsOn: pulumi.Input<pulumi.Resource>[];
}

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

/** The consumer that forwards dataset change events to the EventListener. */
export const DATASET_CONSUMER = { name: "dataset-events", podLabels: { "app.kubernetes.io/name": "dataset-events" } } as const;

/** Alertmanager's pods (kube-prometheus-stack). */
const ALERTMANAGER_POD_LABELS = { "app.kubernetes.io/name": "alertmanager" } as const;

const nsSelector = (name: string) => ({ matchLabels: { "kubernetes.io/metadata.name": name } });

/** Ingress of the EventListener's pods: Alertmanager, the dataset consumer, the webhook gateway's proxies. Nothing else. */
export function listenerNetworkPolicySpec(): k8s.types.input.networking.v1.NetworkPolicySpec {
    return {
        podSelector: { matchLabels: { ...LISTENER_POD_LABELS } },
        policyTypes: ["Ingress"],
        ingress: [{
            from: [
                { namespaceSelector: nsSelector(MONITORING_NAMESPACE), podSelector: { matchLabels: { ...ALERTMANAGER_POD_LABELS } } },
                { podSelector: { matchLabels: { ...DATASET_CONSUMER.podLabels } } },
                { namespaceSelector: nsSelector(GATEWAY_NAMESPACE), podSelector: { matchLabels: { ...WEBHOOK_GATEWAY.proxyPodLabels } } },
            ],
            ports: [{ protocol: "TCP", port: EVENT_LISTENER.port }],
        }],
    };
}

/** The route of GitHub's webhook: exactly POST /hooks/git, stamped with SOURCE_HEADER, to the EventListener. */
export function gitWebhookRouteSpec() {
    return {
        parentRefs: [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: WEBHOOK_GATEWAY.name, sectionName: "http" }],
        rules: [{
            matches: [{ path: { type: "Exact", value: GIT_WEBHOOK_PATH }, method: "POST" }],
            filters: [
                { type: "RequestHeaderModifier", requestHeaderModifier: { set: [{ name: SOURCE_HEADER.name, value: SOURCE_HEADER.value }] } },
                { type: "URLRewrite", urlRewrite: { path: { type: "ReplaceFullPath", replaceFullPath: "/" } } },
            ],
            backendRefs: [{ name: `el-${EVENT_LISTENER.name}`, namespace: PIPELINES_NAMESPACE, port: EVENT_LISTENER.port }],
        }],
    };
}

/**
 * The SQS consumer's loop: long-poll one message, POST its body (an EventBridge event) to the EventListener,
 * delete it only once the listener took it (else it returns after the visibility timeout, then dead-letters).
 */
export function sqsConsumerScript(): string {
    return [
        "set -u",
        "while true; do",
        `  out=$(aws sqs receive-message --queue-url "$QUEUE_URL" --max-number-of-messages 1 --wait-time-seconds 20 --query 'Messages[0].[ReceiptHandle,Body]' --output text) || { sleep 5; continue; }`,
        `  if [ -z "$out" ] || [ "$out" = "None" ]; then continue; fi`,
        `  handle=$(printf '%s' "$out" | cut -f1)`,
        `  body=$(printf '%s' "$out" | cut -f2-)`,
        `  if curl -fsS -m 10 -o /dev/null -H 'Content-Type: application/json' --data-binary "$body" "$LISTENER_URL"; then`,
        `    aws sqs delete-message --queue-url "$QUEUE_URL" --receipt-handle "$handle"`,
        "  fi",
        "done",
    ].join("\n");
}

/**
 * Tekton Triggers of the testbed (pipelines/triggers): the EventListener and its bindings and template; the
 * GitHub webhook's HMAC secret (generated); the webhook Gateway that is the only way in from outside (one route,
 * POST /hooks/git, behind a public LoadBalancer); the NetworkPolicy of the listener; and the consumer that
 * forwards the platform's dataset change events.
 */
export class PipelineTriggers extends pulumi.ComponentResource {
    readonly gitWebhookUrl: pulumi.Output<string>;
    readonly gitWebhookSecret: pulumi.Output<string>;

    constructor(name: string, args: PipelineTriggersArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlops-testbed:k8s:PipelineTriggers", name, {}, opts);
        const provider = args.platform.k8sProvider;
        const k8sOpts = { parent: this, provider, dependsOn: args.dependsOn };
        const labels = { "app.kubernetes.io/part-of": PART_OF };
        const meta = (n: string, namespace: string = PIPELINES_NAMESPACE) => ({ name: n, namespace, labels });
        const scheduling = args.platform.systemScheduling;

        const secret = new random.RandomPassword(`${name}-git-secret`, { length: 40, special: false }, { parent: this });
        new k8s.core.v1.Secret(`${name}-git-webhook`, {
            metadata: meta(GIT_WEBHOOK_SECRET.name),
            type: "Opaque",
            stringData: { [GIT_WEBHOOK_SECRET.key]: secret.result },
        }, k8sOpts);

        // The listener's identity: Tekton Triggers' own roles for EventListeners, nothing more.
        new k8s.core.v1.ServiceAccount(`${name}-sa`, { metadata: meta(LISTENER_SERVICE_ACCOUNT) }, k8sOpts);
        const subjects = [{ kind: "ServiceAccount", name: LISTENER_SERVICE_ACCOUNT, namespace: PIPELINES_NAMESPACE }];
        new k8s.rbac.v1.RoleBinding(`${name}-listener-roles`, {
            metadata: meta("triggers-eventlistener"),
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "tekton-triggers-eventlistener-roles" },
            subjects,
        }, k8sOpts);
        new k8s.rbac.v1.ClusterRoleBinding(`${name}-listener-clusterroles`, {
            metadata: { name: "mlops-testbed-triggers-eventlistener", labels },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "tekton-triggers-eventlistener-clusterroles" },
            subjects,
        }, k8sOpts);

        const trig = (kind: string, spec: { metadata: { name: string } } & Record<string, unknown>) =>
            new k8s.apiextensions.CustomResource(`${name}-${kind}-${spec.metadata.name}`, spec as k8s.apiextensions.CustomResourceArgs, k8sOpts);
        const bindings = triggerBindings().map((b) => trig("binding", b));
        const template = trig("template", trainAndDeployTemplate(args.run.pipeline, args.run.tasks, {
            trainingGpus: args.run.trainingGpus,
            gpuScheduling: args.platform.gpuScheduling,
        }, args.sourceRepository ?? ""));
        // Without a configured repository only a push (which names its repository) can start a delivery.
        const kinds = args.sourceRepository ? TRIGGER_KINDS : TRIGGER_KINDS.filter((k) => k === "git");
        const listener = new k8s.apiextensions.CustomResource(`${name}-listener`, eventListener(args.models, scheduling, kinds) as k8s.apiextensions.CustomResourceArgs, {
            ...k8sOpts,
            dependsOn: [...args.dependsOn, ...bindings, template],
        });
        new k8s.networking.v1.NetworkPolicy(`${name}-listener-ingress`, { metadata: meta("eventlistener-ingress"), spec: listenerNetworkPolicySpec() }, k8sOpts);

        // The webhook gateway: its own proxies (internal Service), one route, and our public Service in front.
        const proxy = new k8s.apiextensions.CustomResource(`${name}-webhook-proxy`, {
            apiVersion: "gateway.envoyproxy.io/v1alpha1",
            kind: "EnvoyProxy",
            metadata: meta(WEBHOOK_GATEWAY.proxyConfig, GATEWAY_NAMESPACE),
            spec: {
                provider: {
                    type: "Kubernetes",
                    kubernetes: {
                        envoyDeployment: { replicas: 1, pod: { nodeSelector: { ...scheduling.nodeSelector }, tolerations: [...scheduling.tolerations] } },
                        envoyService: { name: WEBHOOK_GATEWAY.internalServiceName, type: "ClusterIP" },
                    },
                },
            },
        }, k8sOpts);
        const gateway = new k8s.apiextensions.CustomResource(`${name}-webhook-gateway`, {
            apiVersion: "gateway.networking.k8s.io/v1",
            kind: "Gateway",
            metadata: meta(WEBHOOK_GATEWAY.name, GATEWAY_NAMESPACE),
            spec: {
                gatewayClassName: GATEWAY_CLASS.name,
                infrastructure: { parametersRef: { group: "gateway.envoyproxy.io", kind: "EnvoyProxy", name: WEBHOOK_GATEWAY.proxyConfig } },
                listeners: [{
                    name: "http",
                    protocol: "HTTP",
                    port: WEBHOOK_GATEWAY.port,
                    allowedRoutes: { namespaces: { from: "Same" }, kinds: [{ group: "gateway.networking.k8s.io", kind: "HTTPRoute" }] },
                }],
            },
        }, { ...k8sOpts, dependsOn: [...args.dependsOn, proxy] });
        new k8s.apiextensions.CustomResource(`${name}-webhook-grant`, {
            apiVersion: "gateway.networking.k8s.io/v1",
            kind: "ReferenceGrant",
            metadata: meta("allow-git-webhook-route"),
            spec: {
                from: [{ group: "gateway.networking.k8s.io", kind: "HTTPRoute", namespace: GATEWAY_NAMESPACE }],
                to: [{ group: "", kind: "Service", name: `el-${EVENT_LISTENER.name}` }],
            },
        }, k8sOpts);
        new k8s.apiextensions.CustomResource(`${name}-git-webhook-route`, {
            apiVersion: "gateway.networking.k8s.io/v1",
            kind: "HTTPRoute",
            metadata: meta("git-webhook", GATEWAY_NAMESPACE),
            spec: gitWebhookRouteSpec(),
        }, { ...k8sOpts, dependsOn: [...args.dependsOn, gateway, listener] });
        const publicSvc = new k8s.core.v1.Service(`${name}-webhook-public`, {
            metadata: meta(WEBHOOK_GATEWAY.publicServiceName, GATEWAY_NAMESPACE),
            spec: {
                type: "LoadBalancer",
                selector: { ...WEBHOOK_GATEWAY.proxyPodLabels },
                ports: [{ name: "http", port: 80, targetPort: WEBHOOK_GATEWAY.port, protocol: "TCP" }],
            },
        }, { ...k8sOpts, dependsOn: [...args.dependsOn, gateway] });

        if (args.platform.datasetChanges) this.datasetConsumer(name, args.platform, args.platform.datasetChanges, k8sOpts);

        this.gitWebhookUrl = publicSvc.status.apply((s) => {
            const ingress = s?.loadBalancer?.ingress?.[0];
            return `http://${ingress?.hostname || ingress?.ip || "<pending>"}${GIT_WEBHOOK_PATH}`;
        });
        this.gitWebhookSecret = pulumi.secret(secret.result);
        this.registerOutputs({ gitWebhookUrl: this.gitWebhookUrl });
    }

    private datasetConsumer(name: string, platform: Platform, source: DatasetChangeSource, k8sOpts: pulumi.CustomResourceOptions) {
        const labels = { "app.kubernetes.io/part-of": PART_OF, ...DATASET_CONSUMER.podLabels };
        const identity = platform.bindWorkloadIdentity(`${name}-dataset-events`, {
            namespace: PIPELINES_NAMESPACE,
            serviceAccount: DATASET_CONSUMER.name,
            grants: [],
            consumeDatasetChanges: true,
        });
        const sa = new k8s.core.v1.ServiceAccount(`${name}-dataset-events-sa`, {
            metadata: { name: DATASET_CONSUMER.name, namespace: PIPELINES_NAMESPACE, labels, annotations: identity.serviceAccountAnnotations },
            automountServiceAccountToken: false,
        }, k8sOpts);
        new k8s.apps.v1.Deployment(`${name}-dataset-events`, {
            metadata: { name: DATASET_CONSUMER.name, namespace: PIPELINES_NAMESPACE, labels },
            spec: {
                replicas: 1,
                selector: { matchLabels: { ...DATASET_CONSUMER.podLabels } },
                template: {
                    metadata: { labels: { ...labels, ...identity.podLabels } },
                    spec: {
                        serviceAccountName: sa.metadata.name,
                        nodeSelector: { ...platform.systemScheduling.nodeSelector },
                        tolerations: [...platform.systemScheduling.tolerations],
                        securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: "RuntimeDefault" } },
                        containers: [{
                            name: "forward",
                            image: IMAGES.awsCli,
                            command: ["/bin/sh", "-c", sqsConsumerScript()],
                            env: [
                                { name: "QUEUE_URL", value: source.queueUrl },
                                { name: "AWS_REGION", value: source.region },
                                { name: "LISTENER_URL", value: EVENT_LISTENER_URL },
                                { name: "HOME", value: "/tmp" },
                            ],
                            resources: { requests: { cpu: "10m", memory: "64Mi" }, limits: { memory: "256Mi" } },
                            securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
                            volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
                        }],
                        volumes: [{ name: "tmp", emptyDir: {} }],
                    },
                },
            },
        }, k8sOpts);
    }
}
