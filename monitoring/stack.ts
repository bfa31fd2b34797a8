import * as fs from "node:fs";
import * as path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { DASHBOARD_FOLDER, renderDashboards, type DashboardMeta } from "./dashboards";
import { MODEL_SERVER_METRICS_PORT_NAME, MODEL_SERVER_POD_LABEL, NAMESPACE_LABELS } from "../contract/metric-contract";
import { RETRAIN_LABEL, prometheusRuleSpecs } from "./rules";
import { CHARTS, IMAGES } from "../contract/versions";
import type { MonitoringConfig } from "../contract/config/monitoring";
import type { ClusterAddons, GpuScheduling, Scheduling } from "../contract/platform";
import {
    DASHBOARD_LABEL,
    EVENT_LISTENER_URL,
    MONITORING_NAMESPACE,
    MONITORING_RELEASES,
    MONITORING_SERVICES,
    PART_OF,
    portForwardCommand,
    PUSHGATEWAY_URL,
} from "../contract/names";

export interface MonitoringArgs {
    /** Retention, volume sizes, scrape interval, alert thresholds (the stack's `monitoring` config). */
    readonly config: MonitoringConfig;
    /** Where Prometheus, Alertmanager, Grafana and the operator run. */
    readonly systemScheduling: Scheduling;
    /** Where GPU nodes are and the taint they carry; dcgm-exporter runs only there. */
    readonly gpuScheduling: GpuScheduling;
    /** Resources to wait for before installing (nodes able to run pods). */
    readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
    /** StorageClass of the Prometheus and Alertmanager volumes (the platform's); null: the cluster's default. */
    readonly storageClass?: string | null;
    /**
     * The Prometheus Operator stack: `install` (kube-prometheus-stack, pinned) or `present` (its Prometheus and
     * Alertmanager run in namespace `monitoring`; the testbed adds its own parts and bridges to them).
     */
    readonly stack: ClusterAddons["monitoring"];
}

/**
 * For a present stack: Services under the names the cluster layer uses (MONITORING_SERVICES), selecting the pods the
 * Prometheus Operator runs for the named Prometheus and Alertmanager resources (the operator labels them
 * `app.kubernetes.io/name` and `app.kubernetes.io/instance`), so the promotion's queries, the port-forward
 * commands and the NetworkPolicies work as with the installed stack.
 */
export function bridgeServices(present: { prometheus: string; alertmanager: string }) {
    const service = (svc: { name: string; port: number }, app: string, instance: string) => ({
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: svc.name, namespace: MONITORING_NAMESPACE, labels: { "app.kubernetes.io/part-of": PART_OF } },
        spec: {
            type: "ClusterIP",
            selector: { "app.kubernetes.io/name": app, "app.kubernetes.io/instance": instance },
            ports: [{ name: "http-web", port: svc.port, targetPort: svc.port, protocol: "TCP" }],
        },
    });
    return [
        service(MONITORING_SERVICES.prometheus, "prometheus", present.prometheus),
        service(MONITORING_SERVICES.alertmanager, "alertmanager", present.alertmanager),
    ];
}

/**
 * For a present stack: the retrain route as an AlertmanagerConfig (monitoring.coreos.com/v1alpha1), the same route
 * alertmanagerConfig() gives the installed Alertmanager. The present Alertmanager must select it, and must not add
 * the operator's namespace matcher (alertmanagerConfigMatcherStrategy None): the alerts carry the model's namespace.
 */
export function retrainAlertmanagerConfig() {
    const route = alertmanagerConfig().route.routes[0];
    return {
        apiVersion: "monitoring.coreos.com/v1alpha1",
        kind: "AlertmanagerConfig",
        metadata: {
            name: "mlops-testbed-retrain",
            namespace: MONITORING_NAMESPACE,
            labels: { "app.kubernetes.io/part-of": PART_OF },
        },
        spec: {
            route: {
                receiver: RECEIVERS.retrain,
                matchers: [{ name: RETRAIN_LABEL.key, value: RETRAIN_LABEL.value, matchType: "=" }],
                groupBy: [...route.group_by],
                repeatInterval: route.repeat_interval,
            },
            receivers: [
                {
                    name: RECEIVERS.retrain,
                    webhookConfigs: [{ url: EVENT_LISTENER_URL, sendResolved: false, maxAlerts: 0 }],
                },
            ],
        },
    };
}

/** Secret holding the Grafana admin credentials; the chart reads it through `grafana.admin.existingSecret`. */
export const GRAFANA_ADMIN_SECRET = {
    name: "grafana-admin",
    userKey: "admin-user",
    passwordKey: "admin-password",
    user: "admin",
} as const;

/** ConfigMap annotation the Grafana sidecar reads to file a dashboard into a folder. */
export const DASHBOARD_FOLDER_ANNOTATION = "grafana_folder";

/** Names of the Alertmanager receivers. */
export const RECEIVERS = { default: "null", retrain: "retrain-pipeline" } as const;

const req = (cpu: string, memory: string, memoryLimit?: string) => ({
    requests: { cpu, memory },
    ...(memoryLimit ? { limits: { memory: memoryLimit } } : {}),
});

function placement(s: Scheduling) {
    return { nodeSelector: { ...s.nodeSelector }, tolerations: s.tolerations.map((t) => ({ ...t })) };
}

function escapeRegex(text: string): string {
    return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/** Alertmanager configuration: drift and accuracy alerts (labelled for retraining) go to the pipelines' EventListener. */
export function alertmanagerConfig() {
    return {
        global: { resolve_timeout: "5m" },
        route: {
            receiver: RECEIVERS.default,
            group_by: ["alertname", "namespace"],
            group_wait: "30s",
            group_interval: "5m",
            repeat_interval: "12h",
            routes: [
                {
                    receiver: RECEIVERS.retrain,
                    matchers: [`${RETRAIN_LABEL.key}="${RETRAIN_LABEL.value}"`],
                    group_by: ["alertname", "model", "version"],
                    // A retrain takes a while; do not ask again for the same model version before it could finish.
                    repeat_interval: "6h",
                },
            ],
        },
        receivers: [
            { name: RECEIVERS.default },
            {
                name: RECEIVERS.retrain,
                webhook_configs: [{ url: EVENT_LISTENER_URL, send_resolved: false, max_alerts: 0 }],
            },
        ],
        inhibit_rules: [],
        templates: ["/etc/alertmanager/config/*.tmpl"],
    };
}

/** Helm values for kube-prometheus-stack. Every key exists in the pinned chart (checked by monitoring/stack.spec.ts). */
export function kubePrometheusStackValues(
    config: MonitoringConfig,
    system: Scheduling,
    storageClass: string | null = null,
) {
    const storageClassName = storageClass === null ? {} : { storageClassName: storageClass };
    const place = placement(system);
    const allNamespaces = {};
    return {
        fullnameOverride: MONITORING_RELEASES.stack,
        // Managed control planes (EKS, AKS) do not expose these to scrape.
        kubeControllerManager: { enabled: false },
        kubeScheduler: { enabled: false },
        kubeEtcd: { enabled: false },
        kubeProxy: { enabled: false },
        thanosRuler: { enabled: false },
        prometheusOperator: {
            ...place,
            resources: req("100m", "128Mi", "512Mi"),
            prometheusConfigReloader: { resources: req("10m", "32Mi", "64Mi") },
            admissionWebhooks: { patch: { ...place, resources: req("10m", "32Mi", "128Mi") } },
        },
        prometheus: {
            prometheusSpec: {
                ...place,
                retention: config.retention,
                scrapeInterval: config.scrapeInterval,
                evaluationInterval: config.scrapeInterval,
                resources: req(config.prometheusResources.cpu, config.prometheusResources.memory),
                storageSpec: {
                    volumeClaimTemplate: {
                        spec: {
                            ...storageClassName,
                            accessModes: ["ReadWriteOnce"],
                            resources: { requests: { storage: config.storageSize } },
                        },
                    },
                },
                // Select ServiceMonitors, PodMonitors and PrometheusRules from every namespace, whatever their labels.
                serviceMonitorSelectorNilUsesHelmValues: false,
                podMonitorSelectorNilUsesHelmValues: false,
                ruleSelectorNilUsesHelmValues: false,
                probeSelectorNilUsesHelmValues: false,
                serviceMonitorNamespaceSelector: allNamespaces,
                podMonitorNamespaceSelector: allNamespaces,
                ruleNamespaceSelector: allNamespaces,
            },
        },
        alertmanager: {
            config: alertmanagerConfig(),
            alertmanagerSpec: {
                ...place,
                resources: req("20m", "64Mi", "256Mi"),
                storage: {
                    volumeClaimTemplate: {
                        spec: {
                            ...storageClassName,
                            accessModes: ["ReadWriteOnce"],
                            resources: { requests: { storage: config.alertmanagerStorageSize } },
                        },
                    },
                },
            },
        },
        grafana: {
            ...place,
            resources: req("100m", "256Mi", "512Mi"),
            admin: {
                existingSecret: GRAFANA_ADMIN_SECRET.name,
                userKey: GRAFANA_ADMIN_SECRET.userKey,
                passwordKey: GRAFANA_ADMIN_SECRET.passwordKey,
            },
            sidecar: {
                resources: req("10m", "64Mi", "128Mi"),
                dashboards: {
                    enabled: true,
                    label: DASHBOARD_LABEL.key,
                    labelValue: DASHBOARD_LABEL.value,
                    searchNamespace: "ALL",
                    folderAnnotation: DASHBOARD_FOLDER_ANNOTATION,
                    provider: { foldersFromFilesStructure: true, allowUiUpdates: false },
                },
            },
            "grafana.ini": {
                analytics: { check_for_updates: false, reporting_enabled: false },
                users: { allow_sign_up: false },
            },
        },
        "kube-state-metrics": {
            ...place,
            resources: req("20m", "64Mi", "256Mi"),
            // Namespace labels that attribute cluster metrics to a model version (kube_namespace_labels).
            metricLabelsAllowlist: [`namespaces=[${NAMESPACE_LABELS.model},${NAMESPACE_LABELS.version}]`],
        },
        // Node exporter runs on every node (its default tolerations admit the GPU taint); only requests are set.
        "prometheus-node-exporter": {
            resources: req("20m", "32Mi", "128Mi"),
        },
    };
}

export function pushgatewayValues(system: Scheduling) {
    return {
        ...placement(system),
        resources: req("10m", "32Mi", "128Mi"),
        // The testbed's own (exporterServiceMonitors): a chart without a ServiceMonitor needs no Prometheus Operator
        // CRD, so it installs beside kube-prometheus-stack instead of after it.
        serviceMonitor: { enabled: false },
        persistentVolume: { enabled: false },
    };
}

/**
 * Helm values for dcgm-exporter: only on GPU nodes, tolerating their taint. GPU metrics carry the `namespace`,
 * `pod` and `container` of the workload holding the GPU (the exporter maps GPUs to pods through the kubelet's
 * pod-resources socket) and the model/version pod labels; the ServiceMonitor honours those labels instead of
 * overwriting them with the exporter's own pod, and adds `node`.
 */
export function dcgmExporterValues(gpu: GpuScheduling) {
    return {
        nodeSelector: { ...gpu.nodeSelector },
        tolerations: gpu.tolerations.map((t) => ({ ...t })),
        resources: req("100m", "128Mi", "512Mi"),
        kubernetes: {
            enablePodLabels: true,
            podLabelAllowlistRegex: [
                "^app\\.kubernetes\\.io/(name|version|component)$",
                ...Object.values(NAMESPACE_LABELS).map((k) => `^${escapeRegex(k)}$`),
            ],
            rbac: { create: true },
        },
        // The testbed's own (exporterServiceMonitors), as for the Pushgateway.
        serviceMonitor: { enabled: false },
    };
}

/**
 * The ServiceMonitors the Pushgateway (3.8.0) and dcgm-exporter (4.8.2) charts would render, created by the testbed
 * once the Prometheus Operator's CRDs exist, so that both releases need only the namespace. Selectors, port names,
 * paths and timing are the charts' (their selector labels: chart name and release); honorLabels keeps a pushed
 * series' labels and the GPU workload's namespace/pod.
 */
export function exporterServiceMonitors() {
    const monitor = (name: string, matchLabels: Record<string, string>, endpoint: object) => ({
        apiVersion: "monitoring.coreos.com/v1",
        kind: "ServiceMonitor",
        metadata: { name, namespace: MONITORING_NAMESPACE, labels: { "app.kubernetes.io/part-of": PART_OF } },
        spec: {
            selector: { matchLabels },
            namespaceSelector: { matchNames: [MONITORING_NAMESPACE] },
            endpoints: [endpoint],
        },
    });
    return {
        pushgateway: monitor(
            MONITORING_SERVICES.pushgateway.name,
            {
                "app.kubernetes.io/name": CHARTS.prometheusPushgateway.chart,
                "app.kubernetes.io/instance": MONITORING_RELEASES.pushgateway,
            },
            { port: "http", path: "/metrics", honorLabels: true },
        ),
        dcgm: monitor(
            MONITORING_RELEASES.dcgm,
            {
                "app.kubernetes.io/name": CHARTS.dcgmExporter.chart,
                "app.kubernetes.io/instance": MONITORING_RELEASES.dcgm,
                "app.kubernetes.io/component": CHARTS.dcgmExporter.chart,
            },
            {
                port: "metrics",
                path: "/metrics",
                interval: "15s",
                scrapeTimeout: "10s",
                honorLabels: true,
                relabelings: [
                    { sourceLabels: ["__meta_kubernetes_pod_node_name"], targetLabel: "node", action: "replace" },
                    // Drop the exporter's own pod/namespace/container so only the GPU workload's (from the exporter) remain.
                    { action: "labeldrop", regex: "^(namespace|pod|container)$" },
                ],
            },
        ),
    } as const;
}

/** Grafana sidecar ConfigMap for one dashboard: labelled for the sidecar, in our folder, one `<uid>.json` key. */
export function dashboardConfigMapManifest(d: DashboardMeta & { json: string }) {
    return {
        metadata: {
            name: `dashboard-${d.uid}`,
            namespace: MONITORING_NAMESPACE,
            labels: { [DASHBOARD_LABEL.key]: DASHBOARD_LABEL.value, "app.kubernetes.io/part-of": PART_OF },
            annotations: { [DASHBOARD_FOLDER_ANNOTATION]: DASHBOARD_FOLDER },
        },
        data: { [`${d.uid}.json`]: d.json },
    };
}

/** PodMonitor that scrapes every model server (contract pod label, `metrics` port) in every namespace. */
export function modelServerPodMonitor() {
    return {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PodMonitor",
        metadata: {
            name: "model-servers",
            namespace: MONITORING_NAMESPACE,
            labels: { "app.kubernetes.io/part-of": PART_OF },
        },
        spec: {
            namespaceSelector: { any: true },
            selector: { matchLabels: { [MODEL_SERVER_POD_LABEL.key]: MODEL_SERVER_POD_LABEL.value } },
            podMetricsEndpoints: [{ port: MODEL_SERVER_METRICS_PORT_NAME, path: "/metrics", honorLabels: true }],
        },
    };
}

/** The Pushgateway clean-up script, shipped in a ConfigMap and run daily by a CronJob. */
export const PUSHGATEWAY_CLEANUP = {
    name: "pushgateway-cleanup",
    script: path.join(__dirname, "pushgateway-cleanup", "cleanup.py"),
    mountPath: "/opt/pushgateway-cleanup",
} as const;

/**
 * CronJob deleting Pushgateway groups older than `keepDays`: every pipeline run pushes its own group, which would
 * otherwise stay (and be scraped) forever. Runs on the system nodes, unprivileged, with no API token.
 */
export function pushgatewayCleanupCronJob(keepDays: number, system: Scheduling) {
    return {
        metadata: {
            name: PUSHGATEWAY_CLEANUP.name,
            namespace: MONITORING_NAMESPACE,
            labels: { "app.kubernetes.io/part-of": PART_OF },
        },
        spec: {
            schedule: "23 3 * * *",
            concurrencyPolicy: "Forbid",
            successfulJobsHistoryLimit: 1,
            failedJobsHistoryLimit: 3,
            jobTemplate: {
                spec: {
                    backoffLimit: 2,
                    template: {
                        metadata: {
                            labels: {
                                "app.kubernetes.io/name": PUSHGATEWAY_CLEANUP.name,
                                "app.kubernetes.io/part-of": PART_OF,
                            },
                        },
                        spec: {
                            restartPolicy: "Never",
                            automountServiceAccountToken: false,
                            ...placement(system),
                            securityContext: {
                                runAsNonRoot: true,
                                runAsUser: 65532,
                                runAsGroup: 65532,
                                seccompProfile: { type: "RuntimeDefault" },
                            },
                            volumes: [{ name: "script", configMap: { name: PUSHGATEWAY_CLEANUP.name } }],
                            containers: [
                                {
                                    name: "cleanup",
                                    image: IMAGES.python,
                                    command: ["python", `${PUSHGATEWAY_CLEANUP.mountPath}/cleanup.py`],
                                    env: [
                                        { name: "PUSHGATEWAY_URL", value: PUSHGATEWAY_URL },
                                        { name: "KEEP_DAYS", value: String(keepDays) },
                                    ],
                                    volumeMounts: [
                                        { name: "script", mountPath: PUSHGATEWAY_CLEANUP.mountPath, readOnly: true },
                                    ],
                                    resources: req("10m", "32Mi", "128Mi"),
                                    securityContext: {
                                        allowPrivilegeEscalation: false,
                                        readOnlyRootFilesystem: true,
                                        capabilities: { drop: ["ALL"] },
                                    },
                                },
                            ],
                        },
                    },
                },
            },
        },
    };
}

export function prometheusRuleManifests(config: MonitoringConfig) {
    return prometheusRuleSpecs(config.alerts).map((spec) => ({
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PrometheusRule",
        metadata: {
            name: spec.name,
            namespace: MONITORING_NAMESPACE,
            labels: { "app.kubernetes.io/part-of": PART_OF },
        },
        spec: { groups: spec.groups.map((g) => ({ ...g, rules: g.rules.map((r) => ({ ...r })) })) },
    }));
}

/**
 * The monitoring stack in namespace `monitoring`: kube-prometheus-stack (Prometheus, Alertmanager, Grafana,
 * kube-state-metrics, node-exporter), the Pushgateway for batch steps, dcgm-exporter on GPU nodes, the testbed's
 * dashboards and rules, and a PodMonitor for every model server.
 */
export class Monitoring extends pulumi.ComponentResource {
    /** What brings the Prometheus Operator's CRDs (ServiceMonitor, PodMonitor, PrometheusRule): wait for it. */
    readonly crdsReady: pulumi.Resource[];
    /** Grafana's admin password (generated), or null for a present stack (its Grafana is not the testbed's). */
    readonly grafanaAdminPassword: pulumi.Output<string> | null;
    readonly pushgateway: k8s.helm.v3.Release;
    readonly dcgmExporter: k8s.helm.v3.Release;
    readonly dashboards: DashboardMeta[];
    readonly grafanaUrl: string | null;
    readonly prometheusUrl: string;
    readonly alertmanagerUrl: string;
    readonly pushgatewayUrl: string;

    constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        // The type the component had in components/k8s: the alias keeps the URNs of stacks deployed before the move.
        super(
            "mlops-testbed:monitoring:Monitoring",
            name,
            {},
            {
                ...opts,
                aliases: [...(opts?.aliases ?? []), { type: "mlops-testbed:k8s:Monitoring" }],
            },
        );
        const parent = { parent: this };

        const installed = args.stack.mode === "install";
        // A present stack's namespace exists (the stack runs there): the testbed adds to it, never creates or deletes it.
        const namespace: pulumi.Resource[] = installed
            ? [
                  new k8s.core.v1.Namespace(
                      `${name}-namespace`,
                      {
                          metadata: { name: MONITORING_NAMESPACE, labels: { "app.kubernetes.io/part-of": PART_OF } },
                      },
                      { ...parent, dependsOn: args.dependsOn },
                  ),
              ]
            : [];
        const namespaceReady: pulumi.Input<pulumi.Resource>[] = installed ? namespace : (args.dependsOn ?? []);
        const inNamespace = { ...parent, dependsOn: namespaceReady };

        const release = (
            part: string,
            chart: (typeof CHARTS)["kubePrometheusStack" | "prometheusPushgateway" | "dcgmExporter"],
            releaseName: string,
            values: object,
            dependsOn: pulumi.Input<pulumi.Resource>[],
        ) =>
            new k8s.helm.v3.Release(
                `${name}-${part}`,
                {
                    name: releaseName,
                    chart: chart.chart,
                    version: chart.version,
                    repositoryOpts: { repo: chart.repo },
                    namespace: MONITORING_NAMESPACE,
                    createNamespace: false,
                    values,
                },
                { ...parent, dependsOn },
            );

        if (installed) {
            const password = new random.RandomPassword(`${name}-grafana-admin`, { length: 32, special: false }, parent);
            this.grafanaAdminPassword = pulumi.secret(password.result);
            const adminSecret = new k8s.core.v1.Secret(
                `${name}-grafana-admin`,
                {
                    metadata: {
                        name: GRAFANA_ADMIN_SECRET.name,
                        namespace: MONITORING_NAMESPACE,
                        labels: { "app.kubernetes.io/part-of": PART_OF },
                    },
                    type: "Opaque",
                    stringData: {
                        [GRAFANA_ADMIN_SECRET.userKey]: GRAFANA_ADMIN_SECRET.user,
                        [GRAFANA_ADMIN_SECRET.passwordKey]: this.grafanaAdminPassword,
                    },
                },
                inNamespace,
            );
            const stack = release(
                "stack",
                CHARTS.kubePrometheusStack,
                MONITORING_RELEASES.stack,
                kubePrometheusStackValues(args.config, args.systemScheduling, args.storageClass ?? null),
                [...namespace, adminSecret],
            );
            this.crdsReady = [stack];
        } else {
            this.grafanaAdminPassword = null;
            for (const svc of bridgeServices(args.stack))
                new k8s.core.v1.Service(
                    `${name}-bridge-${svc.metadata.name}`,
                    { metadata: svc.metadata, spec: svc.spec },
                    inNamespace,
                );
            new k8s.apiextensions.CustomResource(`${name}-retrain-route`, retrainAlertmanagerConfig(), inNamespace);
            this.crdsReady = [];
        }
        // Rules and monitors are Prometheus Operator objects, whose CRDs the stack brings (or the present stack has).
        const afterCrds = [
            ...namespace,
            ...this.crdsReady,
            ...(installed ? [] : (args.dependsOn ?? [])),
        ] as pulumi.Resource[];
        this.pushgateway = release(
            "pushgateway",
            CHARTS.prometheusPushgateway,
            MONITORING_RELEASES.pushgateway,
            pushgatewayValues(args.systemScheduling),
            namespaceReady,
        );
        this.dcgmExporter = release(
            "dcgm",
            CHARTS.dcgmExporter,
            MONITORING_RELEASES.dcgm,
            dcgmExporterValues(args.gpuScheduling),
            namespaceReady,
        );
        for (const [part, monitor] of Object.entries(exporterServiceMonitors()))
            new k8s.apiextensions.CustomResource(`${name}-${part}-monitor`, monitor, {
                ...parent,
                dependsOn: afterCrds,
            });

        const rendered = renderDashboards();
        for (const d of rendered)
            new k8s.core.v1.ConfigMap(`${name}-dashboard-${d.uid}`, dashboardConfigMapManifest(d), inNamespace);
        this.dashboards = rendered.map(({ uid, title }) => ({ uid, title }));

        for (const rule of prometheusRuleManifests(args.config)) {
            new k8s.apiextensions.CustomResource(`${name}-rules-${rule.metadata.name}`, rule, {
                ...parent,
                dependsOn: afterCrds,
            });
        }
        new k8s.apiextensions.CustomResource(`${name}-model-servers`, modelServerPodMonitor(), {
            ...parent,
            dependsOn: afterCrds,
        });

        new k8s.core.v1.ConfigMap(
            `${name}-pushgateway-cleanup`,
            {
                metadata: {
                    name: PUSHGATEWAY_CLEANUP.name,
                    namespace: MONITORING_NAMESPACE,
                    labels: { "app.kubernetes.io/part-of": PART_OF },
                },
                data: { "cleanup.py": fs.readFileSync(PUSHGATEWAY_CLEANUP.script, "utf8") },
            },
            inNamespace,
        );
        new k8s.batch.v1.CronJob(
            `${name}-pushgateway-cleanup`,
            pushgatewayCleanupCronJob(args.config.pushgatewayKeepDays, args.systemScheduling),
            { ...parent, dependsOn: [...namespace, this.pushgateway] },
        );

        // A present stack's Grafana (if any) is not the testbed's: no URL to give.
        this.grafanaUrl = installed ? portForwardCommand(MONITORING_SERVICES.grafana) : null;
        this.prometheusUrl = portForwardCommand(MONITORING_SERVICES.prometheus);
        this.alertmanagerUrl = portForwardCommand(MONITORING_SERVICES.alertmanager);
        this.pushgatewayUrl = PUSHGATEWAY_URL;

        this.registerOutputs({
            grafanaUrl: this.grafanaUrl,
            prometheusUrl: this.prometheusUrl,
            alertmanagerUrl: this.alertmanagerUrl,
            dashboards: this.dashboards,
        });
    }
}
