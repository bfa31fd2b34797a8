/**
 * Names the cluster-layer components agree on. One module, so a namespace or service account renamed in one
 * place cannot silently break a NetworkPolicy, RoleBinding or webhook URL elsewhere.
 */

/** `app.kubernetes.io/part-of` value on everything the testbed creates in a cluster. */
export const PART_OF = "mlops-testbed";

export const MONITORING_NAMESPACE = "monitoring";
export const PIPELINES_NAMESPACE = "pipelines";
export const GATEWAY_NAMESPACE = "gateway";
/** Namespace of an artifact store a platform runs inside the cluster (SeaweedFS on an existing cluster). */
export const STORE_NAMESPACE = "object-store";

/** Address ranges that are never a cloud service: private, link-local (instance metadata), CGNAT. */
export const CLUSTER_PRIVATE_RANGES = [
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "169.254.0.0/16",
    "100.64.0.0/10",
] as const;

/** Service accounts of the pipelines (created by the Tekton component, referenced by RoleBindings elsewhere). */
export const PIPELINE_SERVICE_ACCOUNTS = {
    trainer: { namespace: PIPELINES_NAMESPACE, name: "trainer" },
    deployer: { namespace: PIPELINES_NAMESPACE, name: "deployer" },
    builder: { namespace: PIPELINES_NAMESPACE, name: "builder" },
} as const;

/** In-cluster URL of the pipelines' EventListener; Alertmanager posts drift and accuracy alerts here. */
export const EVENT_LISTENER = { name: "mlops-testbed", namespace: PIPELINES_NAMESPACE, port: 8080 } as const;
export const EVENT_LISTENER_URL = `http://el-${EVENT_LISTENER.name}.${EVENT_LISTENER.namespace}.svc.cluster.local:${EVENT_LISTENER.port}`;

/**
 * The pod that forwards the platform's dataset changes to the EventListener (Platform.datasetChanges says what runs
 * in it): its name (Deployment and service account), pod labels, and where its scripts are shipped and mounted.
 */
export const DATASET_CONSUMER = {
    name: "dataset-events",
    podLabels: { "app.kubernetes.io/name": "dataset-events" },
    scripts: { configMap: "dataset-events-scripts", mountPath: "/opt/dataset-events" },
} as const;

/** Ports of every model server (the reference one and any a user brings): serving and Prometheus metrics. */
export const MODEL_SERVER_PORTS = { http: 8080, metrics: 9090 } as const;

/** Label put on ConfigMaps holding Grafana dashboards; the Grafana sidecar and the offline plan look for it. */
export const DASHBOARD_LABEL = { key: "grafana_dashboard", value: "1" } as const;

/**
 * The model server of every model-version namespace: the Service the gateway routes to and the ServiceAccount
 * bound to the version's cloud identity (both created by ModelVersionNamespace), and the pod labels that Service
 * selects (the deploy pipeline puts them on the Deployment's pods).
 */
export const MODEL_SERVER = {
    name: "model-server",
    serviceAccount: "model-server",
    podLabels: { "app.kubernetes.io/name": "model-server" },
} as const;

/**
 * Compute resources of a model-server pod: the server container and the init container that fetches the model.
 * The deploy step takes them from the deploy settings (key `pod-resources`), and the HPA's maximum and config
 * validation count them against the namespace quota, so the numbers live here only.
 */
export const MODEL_SERVER_RESOURCES = {
    server: { requests: { cpu: "250m", memory: "512Mi" }, limits: { memory: "1Gi" } },
    fetcher: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "512Mi" } },
} as const;

/** How many times its replicas a version's HPA may scale to, before the namespace quota caps it. */
export const HPA_MAX_REPLICAS_FACTOR = 3;

/**
 * What the deploy step needs to roll out a version's model server: replicas, GPUs per replica, the HPA's maximum and
 * the rollout's surge (what the namespace quota admits), the pods' resources, the artifact prefix it may read, and
 * what the cloud identity needs on the pods (labels as a JSON object, `envFrom` entries as a JSON list). Written
 * into the ConfigMap `configMap` of every model-version namespace under these keys (the pipelines' deployer may read
 * that one ConfigMap there and nothing else), and shown on the Namespace as NAMESPACE_ANNOTATIONS.
 */
export const DEPLOY_SETTINGS = {
    configMap: "model-server-deploy",
    keys: {
        replicas: "replicas",
        gpu: "gpu",
        maxReplicas: "max-replicas",
        maxSurge: "max-surge",
        podResources: "pod-resources",
        artifactPrefix: "artifact-prefix",
        podLabels: "pod-labels",
        podEnvFrom: "pod-env-from",
    },
} as const;

type DeploySettingKey = keyof typeof DEPLOY_SETTINGS.keys;

/** The deploy settings as annotations on the Namespace: `mlops-testbed/<key>`. */
export const NAMESPACE_ANNOTATIONS = Object.fromEntries(
    Object.entries(DEPLOY_SETTINGS.keys).map(([k, key]) => [k, `mlops-testbed/${key}`]),
) as { readonly [K in DeploySettingKey]: `mlops-testbed/${(typeof DEPLOY_SETTINGS.keys)[K]}` };

/** Kubernetes label keys naming the model and version of a namespace and everything in it. */
export const MODEL_LABEL_KEYS = { model: "mlops-testbed/model", version: "mlops-testbed/version" } as const;
/** Label on a model's HTTPRoute naming its configured `traffic.strategy` (the pipelines read it to pick how to promote). */
export const TRAFFIC_STRATEGY_LABEL = "mlops-testbed/traffic-strategy";

/** The GatewayClass of the model and webhook Gateways, served by Envoy Gateway's controller. */
export const GATEWAY_CLASS = {
    name: "mlops-testbed-models",
    controllerName: "gateway.envoyproxy.io/gatewayclass-controller",
} as const;

const MODEL_GATEWAY_NAME = "models";

/** The Gateway that carries model traffic, its listener port and the Envoy Service in front of it. */
export const MODEL_GATEWAY = {
    name: MODEL_GATEWAY_NAME,
    namespace: GATEWAY_NAMESPACE,
    port: 80,
    serviceName: "models-gateway",
    /** Labels Envoy Gateway puts on the proxy pods of this Gateway; model namespaces admit only these. */
    proxyPodLabels: {
        "gateway.envoyproxy.io/owning-gateway-name": MODEL_GATEWAY_NAME,
        "gateway.envoyproxy.io/owning-gateway-namespace": GATEWAY_NAMESPACE,
    },
} as const;

/** Labels of Prometheus' pods (kube-prometheus-stack's operator sets them); model namespaces admit scrapes from these only. */
export const PROMETHEUS_POD_LABELS = { "app.kubernetes.io/name": "prometheus" } as const;

/**
 * Labels of the smoke test's pods: Tekton labels every TaskRun pod with the Task it runs. Model namespaces admit
 * serving-port calls from the pipelines namespace for these pods only.
 */
export const SMOKE_TEST_POD_LABELS = { "tekton.dev/task": "smoke-test" } as const;

/** Helm release names; they fix the Service names the outputs and the datasource refer to. */
export const MONITORING_RELEASES = { stack: "kps", pushgateway: "pushgateway", dcgm: "dcgm-exporter" } as const;

/** Services of the stack (kube-prometheus-stack `fullnameOverride: kps`; Grafana is `<release>-grafana`). */
export const MONITORING_SERVICES = {
    grafana: { name: `${MONITORING_RELEASES.stack}-grafana`, port: 80, localPort: 3000 },
    prometheus: { name: `${MONITORING_RELEASES.stack}-prometheus`, port: 9090, localPort: 9090 },
    alertmanager: { name: `${MONITORING_RELEASES.stack}-alertmanager`, port: 9093, localPort: 9093 },
    pushgateway: { name: `${MONITORING_RELEASES.pushgateway}-prometheus-pushgateway`, port: 9091, localPort: 9091 },
} as const;

/** In-cluster URL of Prometheus' query API (the promotion analysis reads it). */
export const PROMETHEUS_URL = `http://${MONITORING_SERVICES.prometheus.name}.${MONITORING_NAMESPACE}.svc.cluster.local:${MONITORING_SERVICES.prometheus.port}`;

/** In-cluster URL batch steps push their metrics to. */
export const PUSHGATEWAY_URL = `http://${MONITORING_SERVICES.pushgateway.name}.${MONITORING_NAMESPACE}.svc.cluster.local:${MONITORING_SERVICES.pushgateway.port}`;

/** How to reach a monitoring UI or API from a workstation: the port-forward command (then http://localhost:<localPort>). */
export function portForwardCommand(svc: { name: string; port: number; localPort: number }): string {
    return `kubectl --namespace ${MONITORING_NAMESPACE} port-forward svc/${svc.name} ${svc.localPort}:${svc.port}`;
}
