import * as fs from "node:fs";
import * as path from "node:path";
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
} from "../triggers/triggers";
import { IMAGES } from "../../contract/versions";
import type { Pipeline, TaskLike } from "../core/tekton";
import type { DatasetChangeKind, DatasetChangeSource, Platform } from "../../contract/platform";
import {
    CLUSTER_PRIVATE_RANGES,
    EVENT_LISTENER,
    EVENT_LISTENER_URL,
    GATEWAY_CLASS,
    GATEWAY_NAMESPACE,
    MONITORING_NAMESPACE,
    PART_OF,
    PIPELINES_NAMESPACE,
} from "../../contract/names";

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
    /**
     * What the webhook Gateway, its proxies and their public Service need: the model gateway (Envoy Gateway, its
     * CRDs, the GatewayClass, the `gateway` namespace), not the Tekton install; so the load balancer is provisioned
     * while Tekton installs.
     */
    readonly gatewayReady: pulumi.Input<pulumi.Resource>[];
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
export const DATASET_CONSUMER = {
    name: "dataset-events",
    podLabels: { "app.kubernetes.io/name": "dataset-events" },
} as const;

/** Alertmanager's pods (kube-prometheus-stack). */
const ALERTMANAGER_POD_LABELS = { "app.kubernetes.io/name": "alertmanager" } as const;

const nsSelector = (name: string) => ({ matchLabels: { "kubernetes.io/metadata.name": name } });

/** Ingress of the EventListener's pods: Alertmanager, the dataset consumer, the webhook gateway's proxies. Nothing else. */
export function listenerNetworkPolicySpec(): k8s.types.input.networking.v1.NetworkPolicySpec {
    return {
        podSelector: { matchLabels: { ...LISTENER_POD_LABELS } },
        policyTypes: ["Ingress"],
        ingress: [
            {
                from: [
                    {
                        namespaceSelector: nsSelector(MONITORING_NAMESPACE),
                        podSelector: { matchLabels: { ...ALERTMANAGER_POD_LABELS } },
                    },
                    { podSelector: { matchLabels: { ...DATASET_CONSUMER.podLabels } } },
                    {
                        namespaceSelector: nsSelector(GATEWAY_NAMESPACE),
                        podSelector: { matchLabels: { ...WEBHOOK_GATEWAY.proxyPodLabels } },
                    },
                ],
                ports: [{ protocol: "TCP", port: EVENT_LISTENER.port }],
            },
        ],
    };
}

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

type Container = k8s.types.input.core.v1.Container;
type Volume = k8s.types.input.core.v1.Volume;
type EgressRule = k8s.types.input.networking.v1.NetworkPolicyEgressRule;
type SourceOf<K extends DatasetChangeKind> = Extract<DatasetChangeSource, { kind: K }>;

/** The consumer's scripts (pipelines/install/dataset-events/), shipped in a ConfigMap read at plan time. */
export const DATASET_CONSUMER_SCRIPTS = {
    configMap: "dataset-events-scripts",
    dir: path.join(__dirname, "dataset-events"),
    mountPath: "/opt/dataset-events",
    files: ["common.py", "event_grid.py", "seaweedfs_filer.py"],
} as const;

/** The ConfigMap data of the consumer's scripts, as read from the repository. */
export function datasetConsumerScripts(): Record<string, string> {
    return Object.fromEntries(
        DATASET_CONSUMER_SCRIPTS.files.map((f) => [
            f,
            fs.readFileSync(path.join(DATASET_CONSUMER_SCRIPTS.dir, f), "utf8"),
        ]),
    );
}

/** Where the filer-tail container writes the filer's events and the forwarder reads them (a FIFO in an emptyDir). */
const FILER_EVENTS = { volume: "events", mountPath: "/events", fifo: "/events/filer-meta" } as const;

const listenerEnv = [
    { name: "LISTENER_URL", value: EVENT_LISTENER_URL },
    { name: "HOME", value: "/tmp" },
];
const containerBase = {
    resources: { requests: { cpu: "10m", memory: "64Mi" }, limits: { memory: "256Mi" } },
    securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
};
const tmpMount = { name: "tmp", mountPath: "/tmp" };
const scriptsMount = { name: "scripts", mountPath: DATASET_CONSUMER_SCRIPTS.mountPath, readOnly: true };
const scriptsVolume: Volume = { name: "scripts", configMap: { name: DATASET_CONSUMER_SCRIPTS.configMap } };
const python = (script: string) => ["python", "-u", `${DATASET_CONSUMER_SCRIPTS.mountPath}/${script}`];

/** The egress rule to a dataset change source: HTTPS outside the cluster, or in-cluster pods on a port. */
function sourceEgress(egress: DatasetChangeSource["egress"]): EgressRule {
    return egress.kind === "external-https"
        ? {
              to: [{ ipBlock: { cidr: "0.0.0.0/0", except: [...CLUSTER_PRIVATE_RANGES] } }],
              ports: [{ protocol: "TCP", port: egress.port }],
          }
        : {
              to: [
                  {
                      namespaceSelector: nsSelector(egress.namespace),
                      podSelector: { matchLabels: { ...egress.podLabels } },
                  },
              ],
              ports: [{ protocol: "TCP", port: egress.port }],
          };
}

/** How the consumer of one kind of dataset change source runs. */
export interface DatasetConsumerSpec<K extends DatasetChangeKind> {
    /** Whether the consumer gets a cloud identity through the platform's bindWorkloadIdentity (consumeDatasetChanges). */
    readonly identity: boolean;
    /** Whether its pod mounts the scripts ConfigMap. */
    readonly scripts: boolean;
    /** The pod's containers and volumes (besides the shared /tmp). */
    readonly pod: (source: SourceOf<K>) => { containers: Container[]; volumes: Volume[] };
}

/**
 * The consumer per kind of source. Each reads its platform's events and posts each object creation to the
 * EventListener in the S3 EventBridge "Object Created" shape the dataset trigger accepts.
 */
export const DATASET_CONSUMERS = {
    sqs: {
        identity: true,
        scripts: false,
        pod: (source) => ({
            containers: [
                {
                    name: "forward",
                    image: IMAGES.awsCli,
                    command: ["/bin/sh", "-c", sqsConsumerScript()],
                    env: [
                        { name: "QUEUE_URL", value: source.queueUrl },
                        { name: "AWS_REGION", value: source.region },
                        ...listenerEnv,
                    ],
                    ...containerBase,
                    volumeMounts: [tmpMount],
                },
            ],
            volumes: [],
        }),
    },
    "event-grid": {
        identity: true,
        scripts: true,
        pod: (source) => ({
            containers: [
                {
                    name: "forward",
                    image: IMAGES.python,
                    command: python("event_grid.py"),
                    env: [
                        { name: "QUEUE_URL", value: source.queueUrl },
                        { name: "DATASETS_CONTAINER", value: source.container },
                        ...listenerEnv,
                    ],
                    ...containerBase,
                    volumeMounts: [tmpMount, scriptsMount],
                },
            ],
            volumes: [scriptsVolume],
        }),
    },
    "seaweedfs-filer": {
        identity: false,
        scripts: true,
        pod: (source) => {
            const events = { name: FILER_EVENTS.volume, mountPath: FILER_EVENTS.mountPath };
            return {
                containers: [
                    {
                        // Waits for the forwarder's FIFO, then streams the filer's metadata events under the bucket into it.
                        name: "tail",
                        image: IMAGES.seaweedfs,
                        command: [
                            "/bin/sh",
                            "-c",
                            `while [ ! -p "$EVENTS_FIFO" ]; do sleep 1; done; exec weed filer.meta.tail -filer="$FILER" -pathPrefix="$PATH_PREFIX" > "$EVENTS_FIFO"`,
                        ],
                        env: [
                            { name: "FILER", value: source.filerAddress },
                            { name: "PATH_PREFIX", value: `${source.bucketsPath}/${source.bucket}/` },
                            { name: "EVENTS_FIFO", value: FILER_EVENTS.fifo },
                            { name: "HOME", value: "/tmp" },
                        ],
                        ...containerBase,
                        volumeMounts: [tmpMount, events],
                    },
                    {
                        name: "forward",
                        image: IMAGES.python,
                        command: python("seaweedfs_filer.py"),
                        env: [
                            { name: "EVENTS_FIFO", value: FILER_EVENTS.fifo },
                            { name: "BUCKETS_PATH", value: source.bucketsPath },
                            { name: "DATASETS_BUCKET", value: source.bucket },
                            ...listenerEnv,
                        ],
                        ...containerBase,
                        volumeMounts: [tmpMount, scriptsMount, events],
                    },
                ],
                volumes: [scriptsVolume, { name: FILER_EVENTS.volume, emptyDir: {} }],
            };
        },
    },
} as const satisfies { readonly [K in DatasetChangeKind]: DatasetConsumerSpec<K> };

/** The consumer of a source: its kind's entry of DATASET_CONSUMERS. */
export function datasetConsumerFor<K extends DatasetChangeKind>(source: SourceOf<K>): DatasetConsumerSpec<K> {
    // Indexing by a generic key loses the correlation with the source's type; the `satisfies` above guarantees it.
    return DATASET_CONSUMERS[source.kind as K] as unknown as DatasetConsumerSpec<K>;
}

/** Egress of the consumer's pods: DNS, its source, the EventListener. Nothing else. */
export function datasetConsumerNetworkPolicySpec(
    source: DatasetChangeSource,
): k8s.types.input.networking.v1.NetworkPolicySpec {
    return {
        podSelector: { matchLabels: { ...DATASET_CONSUMER.podLabels } },
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
            sourceEgress(source.egress),
            {
                to: [{ podSelector: { matchLabels: { ...LISTENER_POD_LABELS } } }],
                ports: [{ protocol: "TCP", port: EVENT_LISTENER.port }],
            },
        ],
    };
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

        const secret = new random.RandomPassword(
            `${name}-git-secret`,
            { length: 40, special: false },
            { parent: this },
        );
        new k8s.core.v1.Secret(
            `${name}-git-webhook`,
            {
                metadata: meta(GIT_WEBHOOK_SECRET.name),
                type: "Opaque",
                stringData: { [GIT_WEBHOOK_SECRET.key]: secret.result },
            },
            k8sOpts,
        );

        // The listener's identity: Tekton Triggers' own roles for EventListeners, nothing more.
        new k8s.core.v1.ServiceAccount(`${name}-sa`, { metadata: meta(LISTENER_SERVICE_ACCOUNT) }, k8sOpts);
        const subjects = [{ kind: "ServiceAccount", name: LISTENER_SERVICE_ACCOUNT, namespace: PIPELINES_NAMESPACE }];
        new k8s.rbac.v1.RoleBinding(
            `${name}-listener-roles`,
            {
                metadata: meta("triggers-eventlistener"),
                roleRef: {
                    apiGroup: "rbac.authorization.k8s.io",
                    kind: "ClusterRole",
                    name: "tekton-triggers-eventlistener-roles",
                },
                subjects,
            },
            k8sOpts,
        );
        new k8s.rbac.v1.ClusterRoleBinding(
            `${name}-listener-clusterroles`,
            {
                metadata: { name: "mlops-testbed-triggers-eventlistener", labels },
                roleRef: {
                    apiGroup: "rbac.authorization.k8s.io",
                    kind: "ClusterRole",
                    name: "tekton-triggers-eventlistener-clusterroles",
                },
                subjects,
            },
            k8sOpts,
        );

        const trig = (kind: string, spec: { metadata: { name: string } } & Record<string, unknown>) =>
            new k8s.apiextensions.CustomResource(
                `${name}-${kind}-${spec.metadata.name}`,
                spec as k8s.apiextensions.CustomResourceArgs,
                k8sOpts,
            );
        const bindings = triggerBindings().map((b) => trig("binding", b));
        const template = trig(
            "template",
            trainAndDeployTemplate(
                args.run.pipeline,
                args.run.tasks,
                {
                    trainingGpus: args.run.trainingGpus,
                    gpuScheduling: args.platform.gpuScheduling,
                    storageClass: args.platform.storageClass,
                },
                args.sourceRepository ?? "",
            ),
        );
        // Without a configured repository only a push (which names its repository) can start a delivery.
        const kinds = args.sourceRepository ? TRIGGER_KINDS : TRIGGER_KINDS.filter((k) => k === "git");
        const listener = new k8s.apiextensions.CustomResource(
            `${name}-listener`,
            eventListener(args.models, scheduling, kinds) as k8s.apiextensions.CustomResourceArgs,
            {
                ...k8sOpts,
                dependsOn: [...args.dependsOn, ...bindings, template],
            },
        );
        new k8s.networking.v1.NetworkPolicy(
            `${name}-listener-ingress`,
            { metadata: meta("eventlistener-ingress"), spec: listenerNetworkPolicySpec() },
            k8sOpts,
        );

        // The webhook gateway: its own proxies (internal Service), one route, and our public Service in front.
        const proxy = new k8s.apiextensions.CustomResource(
            `${name}-webhook-proxy`,
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
            { ...k8sOpts, dependsOn: args.gatewayReady },
        );
        const gateway = new k8s.apiextensions.CustomResource(
            `${name}-webhook-gateway`,
            {
                apiVersion: "gateway.networking.k8s.io/v1",
                kind: "Gateway",
                metadata: meta(WEBHOOK_GATEWAY.name, GATEWAY_NAMESPACE),
                spec: {
                    gatewayClassName: GATEWAY_CLASS.name,
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
            { ...k8sOpts, dependsOn: [...args.gatewayReady, proxy] },
        );
        new k8s.apiextensions.CustomResource(
            `${name}-webhook-grant`,
            {
                apiVersion: "gateway.networking.k8s.io/v1",
                kind: "ReferenceGrant",
                metadata: meta("allow-git-webhook-route"),
                spec: {
                    from: [{ group: "gateway.networking.k8s.io", kind: "HTTPRoute", namespace: GATEWAY_NAMESPACE }],
                    to: [{ group: "", kind: "Service", name: `el-${EVENT_LISTENER.name}` }],
                },
            },
            k8sOpts,
        );
        new k8s.apiextensions.CustomResource(
            `${name}-git-webhook-route`,
            {
                apiVersion: "gateway.networking.k8s.io/v1",
                kind: "HTTPRoute",
                metadata: meta("git-webhook", GATEWAY_NAMESPACE),
                spec: gitWebhookRouteSpec(),
            },
            { ...k8sOpts, dependsOn: [...args.dependsOn, gateway, listener] },
        );
        const publicSvc = new k8s.core.v1.Service(
            `${name}-webhook-public`,
            {
                metadata: meta(WEBHOOK_GATEWAY.publicServiceName, GATEWAY_NAMESPACE),
                spec: {
                    type: "LoadBalancer",
                    selector: { ...WEBHOOK_GATEWAY.proxyPodLabels },
                    ports: [{ name: "http", port: 80, targetPort: WEBHOOK_GATEWAY.port, protocol: "TCP" }],
                },
            },
            { ...k8sOpts, dependsOn: [...args.gatewayReady, gateway] },
        );

        if (args.platform.datasetChanges)
            this.datasetConsumer(name, args.platform, args.platform.datasetChanges, k8sOpts);

        this.gitWebhookUrl = publicSvc.status.apply((s) => {
            const ingress = s?.loadBalancer?.ingress?.[0];
            return `http://${ingress?.hostname || ingress?.ip || "<pending>"}${GIT_WEBHOOK_PATH}`;
        });
        this.gitWebhookSecret = pulumi.secret(secret.result);
        this.registerOutputs({ gitWebhookUrl: this.gitWebhookUrl });
    }

    private datasetConsumer(
        name: string,
        platform: Platform,
        source: DatasetChangeSource,
        k8sOpts: pulumi.CustomResourceOptions,
    ) {
        const labels = { "app.kubernetes.io/part-of": PART_OF, ...DATASET_CONSUMER.podLabels };
        const consumer = datasetConsumerFor(source);
        const identity = consumer.identity
            ? platform.bindWorkloadIdentity(`${name}-dataset-events`, {
                  namespace: PIPELINES_NAMESPACE,
                  serviceAccount: DATASET_CONSUMER.name,
                  grants: [],
                  consumeDatasetChanges: true,
              })
            : null;
        const sa = new k8s.core.v1.ServiceAccount(
            `${name}-dataset-events-sa`,
            {
                metadata: {
                    name: DATASET_CONSUMER.name,
                    namespace: PIPELINES_NAMESPACE,
                    labels,
                    ...(identity ? { annotations: identity.serviceAccountAnnotations } : {}),
                },
                automountServiceAccountToken: false,
            },
            k8sOpts,
        );
        if (consumer.scripts) {
            new k8s.core.v1.ConfigMap(
                `${name}-dataset-events-scripts`,
                {
                    metadata: { name: DATASET_CONSUMER_SCRIPTS.configMap, namespace: PIPELINES_NAMESPACE, labels },
                    data: datasetConsumerScripts(),
                },
                k8sOpts,
            );
        }
        new k8s.networking.v1.NetworkPolicy(
            `${name}-dataset-events-egress`,
            {
                metadata: { name: `${DATASET_CONSUMER.name}-egress`, namespace: PIPELINES_NAMESPACE, labels },
                spec: datasetConsumerNetworkPolicySpec(source),
            },
            k8sOpts,
        );
        const pod = consumer.pod(source);
        new k8s.apps.v1.Deployment(
            `${name}-dataset-events`,
            {
                metadata: { name: DATASET_CONSUMER.name, namespace: PIPELINES_NAMESPACE, labels },
                spec: {
                    replicas: 1,
                    selector: { matchLabels: { ...DATASET_CONSUMER.podLabels } },
                    template: {
                        metadata: { labels: { ...labels, ...(identity?.podLabels ?? {}) } },
                        spec: {
                            serviceAccountName: sa.metadata.name,
                            nodeSelector: { ...platform.systemScheduling.nodeSelector },
                            tolerations: [...platform.systemScheduling.tolerations],
                            securityContext: {
                                runAsNonRoot: true,
                                runAsUser: 1000,
                                seccompProfile: { type: "RuntimeDefault" },
                            },
                            containers: pod.containers,
                            volumes: [{ name: "tmp", emptyDir: {} }, ...pod.volumes],
                        },
                    },
                },
            },
            k8sOpts,
        );
    }
}
