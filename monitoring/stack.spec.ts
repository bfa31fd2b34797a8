import * as assert from "node:assert/strict";
import { GPU_TAINT, SYSTEM_NODE_LABELS } from "../components/aws/node-groups";
import { AKS_SPOT_TAINT } from "../components/azure/gpu-node-pool";
import {
    DASHBOARD_LABEL,
    EVENT_LISTENER_URL,
    MONITORING_NAMESPACE,
    MONITORING_RELEASES,
    PUSHGATEWAY_URL,
} from "../contract/names";
import * as fs from "node:fs";
import * as path from "node:path";
import {
    DASHBOARD_FOLDER_ANNOTATION,
    exporterServiceMonitors,
    GRAFANA_ADMIN_SECRET,
    modelServerPodMonitor,
    PUSHGATEWAY_CLEANUP,
} from "./stack";
import { DASHBOARD_FOLDER } from "./dashboards";
import { CHARTS, IMAGES, SUBCHARTS } from "../contract/versions";
import type { Plan, PlannedResource } from "../tools/mock-runtime";
import { schemaErrors, toObject } from "../test/k8s-objects";
import { descendantsOf, findResource, planConfigIssues, planStack, resourcesOfType } from "../test/harness";
import { unknownChartKeys } from "../test/upstream-facts";
import type { Json } from "../test/json";
import { assertUnittestPasses } from "../test/python";

const RELEASE = "kubernetes:helm.sh/v3:Release";

const values = (r: PlannedResource) => r.inputs.values as Record<string, Json>;

describe("monitoring", () => {
    const plans: Record<string, Plan> = {};
    before(async () => {
        plans.dev = await planStack("dev");
        plans.prod = await planStack("prod");
    });

    for (const stack of ["dev", "prod"]) {
        describe(`on ${stack}`, () => {
            const plan = () => plans[stack];
            const release = (name: string) => findResource(plan(), RELEASE, `monitoring-${name}`);

            it("installs the three pinned charts into the monitoring namespace, under the Monitoring component", () => {
                const component = findResource(plan(), "mlops-testbed:monitoring:Monitoring", "monitoring");
                const children = descendantsOf(plan(), component.urn);
                for (const [part, chart] of [
                    ["stack", CHARTS.kubePrometheusStack],
                    ["pushgateway", CHARTS.prometheusPushgateway],
                    ["dcgm", CHARTS.dcgmExporter],
                ] as const) {
                    const r = release(part);
                    assert.ok(children.includes(r), `${r.name} is a child of the component`);
                    assert.equal(r.inputs.chart, chart.chart);
                    assert.equal(r.inputs.version, chart.version);
                    assert.deepEqual(r.inputs.repositoryOpts, { repo: chart.repo });
                    assert.equal(r.inputs.namespace, MONITORING_NAMESPACE);
                }
                assert.deepEqual(CHARTS.kubePrometheusStack.version, "88.5.3");
                assert.deepEqual(CHARTS.prometheusPushgateway.version, "3.8.0");
                assert.deepEqual(CHARTS.dcgmExporter.version, "4.8.2");
                for (const r of resourcesOfType(plan(), RELEASE).filter((x) => x.name.startsWith("monitoring-")))
                    assert.ok(
                        r.provider?.includes("pulumi:providers:kubernetes"),
                        `${r.name} uses the explicit provider`,
                    );
            });

            it("sets only Helm values that exist in the pinned charts", () => {
                const problems = [
                    ...unknownChartKeys(
                        values(release("stack")),
                        CHARTS.kubePrometheusStack,
                        SUBCHARTS.kubePrometheusStack,
                    ).map((k) => `kube-prometheus-stack: ${k}`),
                    ...unknownChartKeys(values(release("pushgateway")), CHARTS.prometheusPushgateway).map(
                        (k) => `prometheus-pushgateway: ${k}`,
                    ),
                    ...unknownChartKeys(values(release("dcgm")), CHARTS.dcgmExporter).map((k) => `dcgm-exporter: ${k}`),
                ];
                assert.deepEqual(problems, []);
            });

            it("keeps the Grafana admin password in a Secret the chart references, never in values or plain outputs", () => {
                const v = values(release("stack"));
                assert.deepEqual(v.grafana.admin, {
                    existingSecret: GRAFANA_ADMIN_SECRET.name,
                    userKey: GRAFANA_ADMIN_SECRET.userKey,
                    passwordKey: GRAFANA_ADMIN_SECRET.passwordKey,
                });
                assert.equal(v.grafana.adminPassword, undefined);
                const secret = findResource(plan(), "kubernetes:core/v1:Secret", "monitoring-grafana-admin");
                assert.equal((secret.inputs.metadata as Json).name, GRAFANA_ADMIN_SECRET.name);
                assert.equal((secret.inputs.metadata as Json).namespace, MONITORING_NAMESPACE);
                const password = findResource(
                    plan(),
                    "random:index/randomPassword:RandomPassword",
                    "monitoring-grafana-admin",
                );
                assert.ok(
                    secret.propertyDependencies.stringData?.includes(password.urn),
                    "the Secret's password comes from the RandomPassword",
                );
                assert.ok(
                    !JSON.stringify(release("stack").inputs).includes("monitoring-grafana-admin-EXAMPLE"),
                    "no password in the release inputs",
                );
                assert.equal(plan().outputs.grafanaAdminPassword, "[secret]");
                assert.ok(release("stack").dependsOn.includes(secret.urn), "the release waits for the Secret");
            });

            it("selects monitors and rules from every namespace, with retention and volume from config", () => {
                const spec = values(release("stack")).prometheus.prometheusSpec;
                for (const k of [
                    "serviceMonitorSelectorNilUsesHelmValues",
                    "podMonitorSelectorNilUsesHelmValues",
                    "ruleSelectorNilUsesHelmValues",
                ])
                    assert.equal(spec[k], false, k);
                const expected =
                    stack === "dev" ? { retention: "7d", size: "10Gi" } : { retention: "30d", size: "100Gi" };
                assert.equal(spec.retention, expected.retention);
                assert.equal(spec.storageSpec.volumeClaimTemplate.spec.resources.requests.storage, expected.size);
            });

            it("sets resource requests on every component and pins the stack to the system nodes", () => {
                const v = values(release("stack"));
                const pg = values(release("pushgateway"));
                const withRequests = {
                    operator: v.prometheusOperator,
                    reloader: v.prometheusOperator.prometheusConfigReloader,
                    webhookPatch: v.prometheusOperator.admissionWebhooks.patch,
                    prometheus: v.prometheus.prometheusSpec,
                    alertmanager: v.alertmanager.alertmanagerSpec,
                    grafana: v.grafana,
                    grafanaSidecar: v.grafana.sidecar,
                    kubeStateMetrics: v["kube-state-metrics"],
                    nodeExporter: v["prometheus-node-exporter"],
                    pushgateway: pg,
                    dcgm: values(release("dcgm")),
                };
                for (const [name, c] of Object.entries(withRequests)) {
                    assert.ok(
                        c.resources?.requests?.cpu && c.resources?.requests?.memory,
                        `${name} has cpu and memory requests`,
                    );
                }
                const pinned = {
                    operator: v.prometheusOperator,
                    prometheus: v.prometheus.prometheusSpec,
                    alertmanager: v.alertmanager.alertmanagerSpec,
                    grafana: v.grafana,
                    kubeStateMetrics: v["kube-state-metrics"],
                    pushgateway: pg,
                };
                for (const [name, c] of Object.entries(pinned))
                    assert.deepEqual(c.nodeSelector, { ...SYSTEM_NODE_LABELS }, `${name} runs on system nodes`);
            });

            it("runs dcgm-exporter only on GPU nodes, attributing GPU metrics to the workload's pod and namespace", () => {
                const d = values(release("dcgm"));
                assert.deepEqual(d.nodeSelector, { "nvidia.com/gpu.present": "true" });
                assert.ok(
                    d.tolerations.some((t: Json) => t.key === GPU_TAINT.key && t.effect === GPU_TAINT.effect),
                    "tolerates the GPU taint",
                );
                const monitor = resourcesOfType(plan(), "kubernetes:monitoring.coreos.com/v1:ServiceMonitor").find(
                    (r) => (r.inputs.metadata as Json).name === MONITORING_RELEASES.dcgm,
                );
                assert.ok(monitor, "the testbed's dcgm-exporter ServiceMonitor is planned");
                assert.equal(
                    (monitor.inputs.spec as Json).endpoints[0].honorLabels,
                    true,
                    "the exporter's namespace/pod labels win over the target's",
                );
                assert.equal(d.kubernetes.enablePodLabels, true);
            });

            it("provisions every dashboard as a sidecar ConfigMap in the MLOps Testbed folder", () => {
                const cms = resourcesOfType(plan(), "kubernetes:core/v1:ConfigMap").filter(
                    (r) => (r.inputs.metadata as Json)?.labels?.[DASHBOARD_LABEL.key] === DASHBOARD_LABEL.value,
                );
                assert.equal(cms.length, 5);
                const outputs = plan().outputs.dashboards as { uid: string; title: string }[];
                assert.deepEqual(
                    cms.map((c) => Object.keys(c.inputs.data as object)).sort(),
                    outputs.map((d) => [`${d.uid}.json`]).sort(),
                );
                for (const c of cms) {
                    assert.equal((c.inputs.metadata as Json).namespace, MONITORING_NAMESPACE);
                    assert.equal(
                        (c.inputs.metadata as Json).annotations[DASHBOARD_FOLDER_ANNOTATION],
                        DASHBOARD_FOLDER,
                    );
                }
                const sidecar = values(release("stack")).grafana.sidecar.dashboards;
                assert.deepEqual(
                    {
                        enabled: sidecar.enabled,
                        label: sidecar.label,
                        labelValue: sidecar.labelValue,
                        folderAnnotation: sidecar.folderAnnotation,
                        fromFiles: sidecar.provider.foldersFromFilesStructure,
                    },
                    {
                        enabled: true,
                        label: DASHBOARD_LABEL.key,
                        labelValue: DASHBOARD_LABEL.value,
                        folderAnnotation: DASHBOARD_FOLDER_ANNOTATION,
                        fromFiles: true,
                    },
                );
            });

            it("creates the rules and the model-server PodMonitor after the stack that brings their CRDs", () => {
                const stackUrn = release("stack").urn;
                const crs = [
                    ...resourcesOfType(plan(), "kubernetes:monitoring.coreos.com/v1:PrometheusRule"),
                    ...resourcesOfType(plan(), "kubernetes:monitoring.coreos.com/v1:PodMonitor"),
                ];
                assert.equal(crs.length, 3);
                for (const r of crs)
                    assert.ok(r.dependsOn.includes(stackUrn), `${r.name} depends on the stack release`);
            });

            it("routes retrain alerts to the pipelines' EventListener", () => {
                const am = values(release("stack")).alertmanager.config;
                assert.ok(JSON.stringify(am.receivers).includes(EVENT_LISTENER_URL));
            });

            it("outputs how to reach Grafana, Prometheus and Alertmanager, and the dashboards", () => {
                const o = plan().outputs;
                assert.equal(o.grafanaUrl, "kubectl --namespace monitoring port-forward svc/kps-grafana 3000:80");
                assert.equal(
                    o.prometheusUrl,
                    "kubectl --namespace monitoring port-forward svc/kps-prometheus 9090:9090",
                );
                assert.equal(
                    o.alertmanagerUrl,
                    "kubectl --namespace monitoring port-forward svc/kps-alertmanager 9093:9093",
                );
                assert.equal((o.dashboards as unknown[]).length, 5);
            });
        });
    }

    describe("on Azure and on an existing cluster: placement from the Platform", () => {
        /** dcgm-exporter's placement and where the stack's components run, from a plan's Helm values. */
        const placementOf = (plan: Plan) => {
            const v = values(findResource(plan, RELEASE, "monitoring-stack"));
            const d = values(findResource(plan, RELEASE, "monitoring-dcgm"));
            const pg = values(findResource(plan, RELEASE, "monitoring-pushgateway"));
            const system = [
                v.prometheusOperator,
                v.prometheus.prometheusSpec,
                v.alertmanager.alertmanagerSpec,
                v.grafana,
                v["kube-state-metrics"],
                pg,
            ].map((c) => c.nodeSelector);
            return { dcgm: { nodeSelector: d.nodeSelector, tolerations: d.tolerations }, system };
        };

        it("AKS: dcgm-exporter on the GPU pools (tolerating the GPU and Spot taints), the stack on the system pool", async () => {
            const plan = await planStack("azure-example");
            const { dcgm, system } = placementOf(plan);
            assert.deepEqual(dcgm.nodeSelector, { "nvidia.com/gpu.present": "true" });
            assert.deepEqual(
                dcgm.tolerations.map((t: Json) => t.key).sort(),
                [AKS_SPOT_TAINT.key, GPU_TAINT.key].sort(),
                "the example has a Spot pool",
            );
            for (const s of system) assert.deepEqual(s, { ...SYSTEM_NODE_LABELS });
        });

        it("existing cluster: dcgm-exporter on the nodes existing.gpu describes, the stack on existing.systemNodeSelector", async () => {
            const plan = await planStack("existing-example", {
                existing: {
                    imageRegistry: "registry.example.com/mlops/model-server",
                    gpu: {
                        nodeLabel: { key: "accelerator", value: "nvidia-l4" },
                        taints: [{ key: "dedicated", value: "gpu", effect: "NoExecute" }],
                    },
                    systemNodeSelector: { "node-role.kubernetes.io/infra": "true" },
                },
            });
            const { dcgm, system } = placementOf(plan);
            assert.deepEqual(dcgm.nodeSelector, { accelerator: "nvidia-l4" });
            assert.deepEqual(dcgm.tolerations, [{ key: "dedicated", operator: "Exists", effect: "NoExecute" }]);
            for (const s of system) assert.deepEqual(s, { "node-role.kubernetes.io/infra": "true" });
        });
    });

    it("takes alert thresholds from the stack config", () => {
        const rule = resourcesOfType(plans.dev, "kubernetes:monitoring.coreos.com/v1:PrometheusRule").find(
            (r) => (r.inputs.metadata as Json).name === "mlops-testbed-alerts",
        )!;
        const alerts = (rule.inputs.spec as Json).groups.flatMap((g: Json) => g.rules);
        assert.equal(
            alerts.find((a: Json) => a.alert === "ModelAccuracyLow").expr,
            "mlops_model_prediction_accuracy < 0.85",
        );
        assert.equal(alerts.find((a: Json) => a.alert === "GpuNodeIdle").for, "15m");
    });

    it("refuses bad monitoring config, naming the key", async () => {
        const issues = await planConfigIssues("dev", {
            monitoring: { retention: "a week", alerts: { accuracyMin: 1.5 } },
        });
        const keys = issues.map((i) => i.key).sort();
        assert.deepEqual(keys, ["mlops-testbed:monitoring.alerts.accuracyMin", "mlops-testbed:monitoring.retention"]);
    });

    it("PodMonitor and the exporters' ServiceMonitors validate against the prometheus-operator CRDs", async () => {
        assert.equal(await schemaErrors(modelServerPodMonitor()), "");
        for (const monitor of Object.values(exporterServiceMonitors()))
            assert.equal(await schemaErrors(monitor), "", monitor.metadata.name);
    });

    it("installs the Pushgateway and dcgm-exporter beside the stack; only their ServiceMonitors wait for its CRDs", async () => {
        const plan = await planStack("dev");
        const stack = findResource(plan, "kubernetes:helm.sh/v3:Release", "monitoring-stack");
        for (const part of ["pushgateway", "dcgm"]) {
            const release = findResource(plan, "kubernetes:helm.sh/v3:Release", `monitoring-${part}`);
            assert.ok(!release.dependsOn.includes(stack.urn), `${part} does not wait for kube-prometheus-stack`);
            assert.equal((release.inputs.values as Json).serviceMonitor.enabled, false, `${part}: no chart monitor`);
            const monitor = findResource(
                plan,
                "kubernetes:monitoring.coreos.com/v1:ServiceMonitor",
                `monitoring-${part}-monitor`,
            );
            assert.ok(monitor.dependsOn.includes(stack.urn), `${part}'s ServiceMonitor waits for the CRDs`);
        }
        // The Pushgateway's monitor selects the Service the steps push to (its name is the chart's fullname).
        assert.equal(exporterServiceMonitors().pushgateway.metadata.name, PUSHGATEWAY_URL.split("//")[1].split(".")[0]);
    });

    describe("Pushgateway clean-up", () => {
        it("runs the shipped script daily on the system nodes, against the Pushgateway, keeping the configured days", async () => {
            for (const [stack, keepDays] of [
                ["dev", 30],
                ["prod", 30],
            ] as const) {
                const plan = plans[stack];
                const cron = toObject(
                    findResource(plan, "kubernetes:batch/v1:CronJob", "monitoring-pushgateway-cleanup"),
                );
                assert.equal(await schemaErrors(cron), "");
                assert.equal(cron.metadata.namespace, MONITORING_NAMESPACE);
                const pod = cron.spec.jobTemplate.spec.template.spec;
                assert.deepEqual(pod.nodeSelector, SYSTEM_NODE_LABELS);
                assert.equal(pod.automountServiceAccountToken, false);
                const [c] = pod.containers;
                assert.equal(c.image, IMAGES.python);
                assert.deepEqual(c.env, [
                    { name: "PUSHGATEWAY_URL", value: PUSHGATEWAY_URL },
                    { name: "KEEP_DAYS", value: String(keepDays) },
                ]);
                assert.ok(c.resources.requests.cpu && c.resources.requests.memory);
                const cm = toObject(
                    findResource(plan, "kubernetes:core/v1:ConfigMap", "monitoring-pushgateway-cleanup"),
                );
                assert.equal(cm.data["cleanup.py"], fs.readFileSync(PUSHGATEWAY_CLEANUP.script, "utf8"));
                assert.equal(c.command[1], `${PUSHGATEWAY_CLEANUP.mountPath}/cleanup.py`);
            }
        });

        it("takes the number of days from monitoring.pushgatewayKeepDays and refuses 0", async () => {
            const plan = await planStack("dev", { monitoring: { pushgatewayKeepDays: 7 } });
            const cron = toObject(findResource(plan, "kubernetes:batch/v1:CronJob", "monitoring-pushgateway-cleanup"));
            assert.equal(cron.spec.jobTemplate.spec.template.spec.containers[0].env[1].value, "7");
            const issues = await planConfigIssues("dev", { monitoring: { pushgatewayKeepDays: 0 } });
            assert.ok(
                issues.some((i) => i.key === "mlops-testbed:monitoring.pushgatewayKeepDays"),
                JSON.stringify(issues),
            );
        });

        it("passes its Python tests (which groups are stale, how group paths are encoded, what is deleted)", () => {
            assertUnittestPasses(path.dirname(PUSHGATEWAY_CLEANUP.script));
        });
    });
});
