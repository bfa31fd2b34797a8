/**
 * An existing cluster that already runs the cluster layer's add-ons (`existing.addons.*.mode: present`) and an
 * S3-compatible store of its own (`existing.store.kind: external`): what validation refuses, what the testbed no
 * longer installs, and what it still creates to use what is there.
 */
import * as assert from "node:assert/strict";
import { EVENT_LISTENER_URL, MONITORING_SERVICES } from "../../contract/names";
import type { Plan } from "../../tools/mock-runtime";
import type { Json } from "../../test/json";
import { findResource, issueAt, planConfigIssues, planStack, resourcesOfType } from "../../test/harness";
import { objectsOfKind, schemaErrors } from "../../test/k8s-objects";
import { externalStoreEgress } from "./external-store";

const SHARED = "existing-shared-example";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const EXTERNAL = {
    kind: "external",
    endpoint: "https://s3.example.com",
    buckets: { models: "m-bucket", datasets: "d-bucket" },
    credentialsSecret: "storage/s3-keys",
};
/** The existing-example stack's `existing` section with overrides. */
const existingWith = (over: Record<string, unknown>) => ({
    imageRegistry: "kind-registry:5000/model-server",
    registryTls: "http",
    ...over,
});

describe("existing cluster: add-ons present and an external store", function () {
    let plan: Plan;
    before(async () => {
        plan = await planStack(SHARED);
    });
    const releases = () => resourcesOfType(plan, RELEASE).map((r) => (r.inputs as Json).name as string);

    it("installs none of the present add-ons: no kube-prometheus-stack, Envoy Gateway, Tekton release or SeaweedFS", () => {
        assert.deepEqual(
            releases().sort(),
            ["dcgm-exporter", "pushgateway"],
            "the testbed's own monitoring parts only",
        );
        assert.equal(resourcesOfType(plan, "kubernetes:yaml/v2:ConfigFile").length, 0, "no Tekton manifests");
        assert.equal(objectsOfKind(plan, "GatewayClass").length, 0, "the cluster's GatewayClass is used");
        assert.deepEqual(
            objectsOfKind(plan, "Namespace")
                .map((n) => n.metadata.name)
                .sort(),
            ["gateway", "iris-v1", "iris-v2", "pipelines"],
            "the monitoring namespace exists already; no store namespace",
        );
        assert.equal(resourcesOfType(plan, "mlops-testbed:existing:SeaweedfsStore").length, 0);
        assert.equal(objectsOfKind(plan, "Secret", "monitoring").length, 0, "no Grafana admin secret");
        assert.equal(plan.outputs.grafanaUrl, null);
        assert.equal(plan.outputs.grafanaAdminPassword, null);
    });

    it("bridges to the present Prometheus and Alertmanager under the names the cluster layer uses", async () => {
        const services = objectsOfKind(plan, "Service", "monitoring");
        const byName = Object.fromEntries(services.map((s) => [s.metadata.name, s]));
        assert.deepEqual(byName[MONITORING_SERVICES.prometheus.name].spec.selector, {
            "app.kubernetes.io/name": "prometheus",
            "app.kubernetes.io/instance": "k8s",
        });
        assert.deepEqual(byName[MONITORING_SERVICES.alertmanager.name].spec.selector, {
            "app.kubernetes.io/name": "alertmanager",
            "app.kubernetes.io/instance": "main",
        });
        assert.equal(byName[MONITORING_SERVICES.prometheus.name].spec.ports[0].port, 9090);
        for (const s of services) assert.equal(await schemaErrors(s), "");
        const [route] = objectsOfKind(plan, "AlertmanagerConfig", "monitoring");
        assert.deepEqual(route.spec.route.matchers, [{ name: "action", value: "retrain", matchType: "=" }]);
        assert.equal(route.spec.receivers[0].webhookConfigs[0].url, EVENT_LISTENER_URL);
        assert.equal(
            plan.outputs.prometheusUrl,
            "kubectl --namespace monitoring port-forward svc/kps-prometheus 9090:9090",
        );
        // The rules, the model servers' PodMonitor and the dashboards still go to the present stack's namespace.
        assert.ok(objectsOfKind(plan, "PrometheusRule", "monitoring").length > 0);
        assert.equal(objectsOfKind(plan, "PodMonitor", "monitoring").length, 1);
    });

    it("puts both Gateways on the cluster's GatewayClass, each with the testbed's own proxy settings", () => {
        const gateways = objectsOfKind(plan, "Gateway", "gateway");
        assert.deepEqual(gateways.map((g) => g.metadata.name).sort(), ["models", "webhooks"]);
        for (const g of gateways) {
            assert.equal(g.spec.gatewayClassName, "eg", g.metadata.name);
            assert.equal(g.spec.infrastructure.parametersRef.kind, "EnvoyProxy", g.metadata.name);
        }
        assert.deepEqual(
            objectsOfKind(plan, "EnvoyProxy", "gateway")
                .map((p) => p.metadata.name)
                .sort(),
            ["models-proxy", "webhooks-proxy"],
        );
    });

    it("sets the present Tekton's observability keys and scrapes its controller in the namespace given", async () => {
        const patch = findResource(plan, "kubernetes:core/v1:ConfigMapPatch", "tekton-observability").inputs as Json;
        assert.equal(patch.metadata.namespace, "tekton-pipelines");
        const openshift = await planStack(SHARED, {
            existing: {
                clusterName: "shared",
                imageRegistry: "registry.example.com/mlops/model-server",
                store: EXTERNAL,
                addons: { tekton: { mode: "present", namespace: "openshift-pipelines" } },
            },
        });
        const moved = findResource(openshift, "kubernetes:core/v1:ConfigMapPatch", "tekton-observability")
            .inputs as Json;
        assert.equal(moved.metadata.namespace, "openshift-pipelines");
        const [monitor] = objectsOfKind(openshift, "ServiceMonitor", "monitoring").filter(
            (m) => m.metadata.name === "tekton-pipelines-controller",
        );
        assert.deepEqual(monitor.spec.namespaceSelector.matchNames, ["openshift-pipelines"]);
        assert.equal(resourcesOfType(openshift, "kubernetes:yaml/v2:ConfigFile").length, 0);
    });

    it("points the steps at the external store and gives every workload with a grant its keys, nothing more", () => {
        const [settings] = objectsOfKind(plan, "ConfigMap", "pipelines").filter(
            (c) => c.metadata.name === "pipeline-settings",
        );
        assert.equal(settings.data.STORE_KIND, "s3-compatible");
        assert.equal(settings.data.STORE_ENDPOINT, "http://minio.storage.svc.cluster.local:9000");
        assert.equal(settings.data.MODELS_BUCKET, "mlops-models");
        assert.equal(settings.data.DATASETS_BUCKET, "mlops-datasets");
        assert.equal(settings.data.STORE_REGION, "us-east-1");
        const secrets = objectsOfKind(plan, "Secret").map((s) => `${s.metadata.namespace}/${s.metadata.name}`);
        assert.deepEqual(
            secrets.filter((s) => s.endsWith("-store-credentials")).sort(),
            [
                "iris-v1/model-server-store-credentials",
                "iris-v2/model-server-store-credentials",
                "pipelines/trainer-store-credentials",
            ],
            "the builder has no store grant, so no keys",
        );
        // The keys are read (not managed) from the Secret the config names, once.
        assert.deepEqual(plan.reads, [
            { type: "kubernetes:core/v1:Secret", name: "existing-store-source", id: "storage/mlops-testbed-s3" },
        ]);
        // The trainer's Tasks load the keys; nothing reads the datasets store's changes (no consumer).
        const [train] = objectsOfKind(plan, "Task", "pipelines").filter((t) => t.metadata.name === "train");
        assert.deepEqual(train.spec.stepTemplate.envFrom[1], { secretRef: { name: "trainer-store-credentials" } });
        assert.equal(objectsOfKind(plan, "Deployment", "pipelines").length, 0, "no dataset-change consumer");
    });

    it("opens the model namespaces' egress to the store's pods and port only", () => {
        const [policy] = objectsOfKind(plan, "NetworkPolicy", "iris-v1").filter(
            (p) => p.metadata.name === "allow-artifact-store",
        );
        assert.deepEqual(policy.spec.egress, [
            {
                to: [
                    {
                        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "storage" } },
                        podSelector: { matchLabels: { "app.kubernetes.io/name": "minio" } },
                    },
                ],
                ports: [{ protocol: "TCP", port: 9000 }],
            },
        ]);
    });

    it("derives the store's egress from its endpoint when none is given", () => {
        const store = (endpoint: string, egress?: object) =>
            externalStoreEgress({ ...EXTERNAL, endpoint, egress } as never);
        assert.deepEqual(store("https://s3.example.com"), { kind: "public", port: 443 });
        assert.deepEqual(store("http://s3.example.com:9000"), { kind: "public", port: 9000 });
        assert.deepEqual(store("http://127.0.0.1:9000"), {
            kind: "address-blocks",
            cidrs: ["127.0.0.1/32"],
            port: 9000,
        });
        assert.deepEqual(store("https://10.0.0.5", { cidrs: ["10.0.0.0/24"] }), {
            kind: "address-blocks",
            cidrs: ["10.0.0.0/24"],
            port: 443,
        });
    });

    it("takes the keys from the secret storeCredentials instead of a Secret in the cluster", async () => {
        const { credentialsSecret: _omit, ...withoutSecret } = EXTERNAL;
        const keyed = await planStack("existing-example", {
            existing: existingWith({ store: withoutSecret }),
            storeCredentials: { secure: "AAAB-placeholder" },
        });
        assert.deepEqual(
            objectsOfKind(keyed, "Secret", "pipelines")
                .map((s) => s.metadata.name)
                .sort(),
            ["git-webhook", "trainer-store-credentials"],
        );
        assert.deepEqual(keyed.reads, [], "no Secret is read from the cluster");
        assert.ok(JSON.stringify(keyed.resources).includes("https://s3.example.com"));
    });
});

describe("existing cluster: add-on and store combinations refused, every problem at once", () => {
    it("an external store without what it needs, and SeaweedFS-only keys with it", async () => {
        const issues = await planConfigIssues("existing-example", {
            existing: existingWith({ store: { kind: "external" }, storeSize: "10Gi" }),
        });
        for (const key of ["endpoint", "buckets", "credentialsSecret"])
            issueAt(issues, `mlops-testbed:existing.store.${key}`, /is required for an external store/);
        issueAt(issues, "mlops-testbed:existing.storeSize", /SeaweedFS volume; an external store has none/);
    });

    it("external-store keys on SeaweedFS, and the keys given twice", async () => {
        const seaweed = await planConfigIssues("existing-example", {
            existing: existingWith({ store: { kind: "seaweedfs", endpoint: "https://s3.example.com" } }),
            storeCredentials: { secure: "AAAB-placeholder" },
        });
        issueAt(seaweed, "mlops-testbed:existing.store.endpoint", /applies to an external store only/);
        issueAt(seaweed, "mlops-testbed:storeCredentials", /existing.store.kind is not external/);
        const twice = await planConfigIssues("existing-example", {
            existing: existingWith({ store: EXTERNAL }),
            storeCredentials: { secure: "AAAB-placeholder" },
        });
        issueAt(twice, "mlops-testbed:existing.store.credentialsSecret", /both give the store's keys/);
    });

    it("a private or in-cluster endpoint without egress, egress given two ways, and a malformed Secret reference", async () => {
        const privateIp = await planConfigIssues("existing-example", {
            existing: existingWith({
                store: { ...EXTERNAL, endpoint: "http://10.1.2.3:9000", credentialsSecret: "nope" },
            }),
        });
        issueAt(privateIp, "mlops-testbed:existing.store.egress", /10\.1\.2\.3 is a private address/);
        issueAt(privateIp, "mlops-testbed:existing.store.credentialsSecret", /<namespace>\/<name>/);
        const svc = await planConfigIssues("existing-example", {
            existing: existingWith({ store: { ...EXTERNAL, endpoint: "http://minio.storage.svc:9000" } }),
        });
        issueAt(svc, "mlops-testbed:existing.store.egress", /Service inside the cluster/);
        const both = await planConfigIssues("existing-example", {
            existing: existingWith({
                store: { ...EXTERNAL, egress: { cidrs: ["10.0.0.0/24"], namespace: "storage", podLabels: { a: "b" } } },
            }),
        });
        issueAt(both, "mlops-testbed:existing.store.egress", /either cidrs .* or namespace and podLabels/);
    });

    it("present add-ons without what the testbed must know, install with present-only fields, and stack settings of a present monitoring stack", async () => {
        const issues = await planConfigIssues("existing-example", {
            existing: existingWith({
                addons: {
                    monitoring: { mode: "present" },
                    gateway: { mode: "present" },
                    tekton: { mode: "install", namespace: "openshift-pipelines" },
                },
            }),
            monitoring: { retention: "7d" },
        });
        issueAt(
            issues,
            "mlops-testbed:existing.addons.monitoring.prometheus",
            /required when .*monitoring.mode is present/,
        );
        issueAt(issues, "mlops-testbed:existing.addons.monitoring.alertmanager", /required/);
        issueAt(issues, "mlops-testbed:existing.addons.gateway.gatewayClassName", /required/);
        issueAt(issues, "mlops-testbed:existing.addons.tekton.namespace", /applies only when .*tekton.mode is present/);
        issueAt(issues, "mlops-testbed:monitoring.retention", /your Prometheus's own settings apply/);
        const modes = await planConfigIssues("existing-example", {
            existing: existingWith({ addons: { gateway: { mode: "maybe" } } }),
        });
        issueAt(modes, "mlops-testbed:existing.addons.gateway.mode", /install, present/);
    });
});
