/**
 * The Platform contract: with the same cluster-layer config, every cloud exports the same output keys and the
 * cluster layer produces the same Kubernetes objects, apart from what the Platform says is cloud-specific:
 * identity annotations and labels (and the credentials Secret where there is no token identity), storage
 * endpoints and bucket names, the image registry, and tolerations of taints a cloud puts on its own nodes.
 * Each of those is taken out by key or field, never by matching values anywhere in an object.
 */
import * as assert from "node:assert/strict";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { IRSA_ROLE_ARN_ANNOTATION } from "../components/aws/workload-identity";
import { AKS_SPOT_TAINT } from "../components/azure/gpu-node-pool";
import {
    WORKLOAD_IDENTITY_CLIENT_ID_ANNOTATION,
    WORKLOAD_IDENTITY_USE_LABEL,
} from "../components/azure/workload-identity";
import { DATASET_CONSUMER, DEPLOY_SETTINGS, NAMESPACE_ANNOTATIONS, PIPELINES_NAMESPACE } from "../contract/names";
import { IMAGES } from "../contract/versions";
import { ARTIFACT_STORE_POLICY } from "../components/models/network-policies";
import type { Platform, WorkloadIdentityBinding } from "../contract/platform";
import { SYSTEM_NODE_LABELS } from "../contract/scheduling";
import type { CloudName } from "../contract/clouds";
import { OUTPUT_KEYS, SECRET_OUTPUT_KEYS } from "../infra/outputs";
import type { Plan, PlannedResource } from "../tools/mock-runtime";
import { loadStack } from "../tools/stack";
import { PLATFORM_SETTINGS_KEYS, SETTINGS_CONFIGMAP } from "../pipelines/core/context";
import { descendantsOf, planStack } from "./harness";
import { planPlatform } from "./platform-harness";
import type { Json } from "./json";

/** One stack file per cloud; the cluster-layer config below is laid over each. */
const STACKS: Record<CloudName, string> = { aws: "dev", azure: "azure-example", existing: "existing-example" };

const CLUSTER_LAYER_CONFIG = {
    models: [
        {
            name: "iris",
            versions: [{ name: "v1" }, { name: "v2", gpu: 1 }],
            traffic: { strategy: "canary", weights: { v1: 90, v2: 10 } },
        },
    ],
    quotaDefaults: { cpu: "4", memory: "16Gi", gpu: 1, pods: 10, storage: "20Gi" },
    monitoring: { retention: "7d", storageSize: "20Gi" },
    pipelines: { keepRuns: 20 },
};

/**
 * Config laid over a cloud's stack file. AWS and Azure pin system workloads to the system nodes they label; the
 * existing example schedules them anywhere ({}), so here its system nodes carry the same labels: the layer must
 * then be identical, node selectors included.
 */
function overridesFor(cloud: CloudName): Record<string, unknown> {
    if (cloud !== "existing") return CLUSTER_LAYER_CONFIG;
    const existing = JSON.parse(loadStack(STACKS.existing).config["mlops-testbed:existing"]) as Record<string, unknown>;
    return { ...CLUSTER_LAYER_CONFIG, existing: { ...existing, systemNodeSelector: { ...SYSTEM_NODE_LABELS } } };
}

/** Taints a cloud adds to its own nodes (not chosen by the testbed); tolerating them is cloud-specific. */
const CLOUD_TAINT_KEYS: readonly string[] = [AKS_SPOT_TAINT.key];

/**
 * Annotation keys that carry a workload's cloud identity: on its ServiceAccount (IRSA role, Azure client id),
 * and on its model-version namespace, where the deploy pipeline reads the pod labels and envFrom it needs.
 */
const IDENTITY_ANNOTATION_KEYS: ReadonlySet<string> = new Set([
    IRSA_ROLE_ARN_ANNOTATION,
    WORKLOAD_IDENTITY_CLIENT_ID_ANNOTATION,
    NAMESPACE_ANNOTATIONS.podLabels,
    NAMESPACE_ANNOTATIONS.podEnvFrom,
]);
/** Pod label keys that carry it (Azure workload identity's opt-in label). */
const IDENTITY_LABEL_KEYS: ReadonlySet<string> = new Set([WORKLOAD_IDENTITY_USE_LABEL]);

/** Env entries (by name) whose value is a storage endpoint or bucket name: what the fixture layer passes its server. */
const STORAGE_ENV: Readonly<Record<string, string>> = {
    STORE_ENDPOINT: "<store-endpoint>",
    MODELS_BUCKET: "<models-bucket>",
};
/** Env entries (by name) whose value is an image reference: the step runtime's, in the platform's registry. */
const IMAGE_ENV: ReadonlySet<string> = new Set(["IMAGE", "BASE_IMAGE"]);
/** What the artifact-store NetworkPolicy's egress peers and ports become: the store's address is the platform's. */
const STORE_PEERS = "<artifact-store peers>";

interface CloudFacts {
    /** Repository URL of the image registry; replaced where a container image starts with it. */
    readonly imageRegistry: string | null;
    /** Credentials Secrets of the bindings (platforms without token identity); envFrom entries naming one go. */
    readonly credentialsSecrets: Set<string>;
}

async function factsOf(plan: Plan, bindings: readonly WorkloadIdentityBinding[]): Promise<CloudFacts> {
    const registry = plan.rawOutputs.imageRegistry;
    const facts: CloudFacts = {
        imageRegistry: typeof registry === "string" && registry !== "" ? registry : null,
        credentialsSecrets: new Set(),
    };
    for (const b of bindings) {
        const annotations = await new Promise<Record<string, string>>((r) => b.serviceAccountAnnotations.apply(r));
        for (const k of Object.keys(annotations))
            assert.ok(IDENTITY_ANNOTATION_KEYS.has(k), `binding annotation ${k} is not a known identity annotation`);
        for (const k of Object.keys(b.podLabels))
            assert.ok(IDENTITY_LABEL_KEYS.has(k), `binding pod label ${k} is not a known identity label`);
        if (b.credentialsSecret)
            facts.credentialsSecrets.add(await new Promise<string>((r) => b.credentialsSecret!.apply(r)));
    }
    // Credentials Secrets the platform created for the program's own bindings (e.g. the pipelines' service accounts).
    const platform = plan.resources.find((r) => /^mlops-testbed:[a-z]+:Platform$/.test(r.type));
    if (platform) {
        for (const r of descendantsOf(plan, platform.urn)) {
            const name = (r.inputs as Json).metadata?.name;
            if (r.type === "kubernetes:core/v1:Secret" && typeof name === "string") facts.credentialsSecrets.add(name);
        }
    }
    return facts;
}

/** A Kubernetes object with every allowed cloud-specific difference taken out, by key or field; empty maps and lists dropped. */
function normalize(value: unknown, facts: CloudFacts, key = ""): unknown {
    if (typeof value === "string") {
        if (key === "image" && facts.imageRegistry && value.startsWith(facts.imageRegistry))
            return `<image-registry>${value.slice(facts.imageRegistry.length)}`;
        return value;
    }
    if (Array.isArray(value)) {
        let items = value;
        if (key === "tolerations") items = items.filter((t) => !CLOUD_TAINT_KEYS.includes(t?.key));
        if (key === "envFrom") items = items.filter((e) => !facts.credentialsSecrets.has(e?.secretRef?.name));
        if (key === "env")
            items = items.map((e) =>
                e && STORAGE_ENV[e.name] !== undefined
                    ? { name: e.name, value: STORAGE_ENV[e.name] }
                    : e && IMAGE_ENV.has(e.name)
                      ? { ...e, value: normalize(e.value, facts, "image") }
                      : e,
            );
        const out = items.map((v) => normalize(v, facts)).filter((v) => v !== undefined);
        return out.length > 0 ? out : undefined;
    }
    if (value && typeof value === "object") {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(value)) {
            if (key === "annotations" && IDENTITY_ANNOTATION_KEYS.has(k)) continue;
            if (key === "labels" && IDENTITY_LABEL_KEYS.has(k)) continue;
            const n = normalize(v, facts, k);
            if (n !== undefined) out[k] = n;
        }
        return Object.keys(out).length > 0 ? out : undefined;
    }
    return value;
}

/** The artifact-store NetworkPolicy with its egress peers and ports (the platform's store address) replaced. */
function withoutStorePeers(type: string, inputs: Json): Json {
    if (type !== "kubernetes:networking.k8s.io/v1:NetworkPolicy" || inputs?.metadata?.name !== ARTIFACT_STORE_POLICY)
        return inputs;
    const egress = (inputs.spec?.egress ?? []) as Record<string, unknown>[];
    assert.ok(egress.length > 0, `${ARTIFACT_STORE_POLICY} has no egress rule`);
    for (const rule of egress)
        assert.deepEqual(
            Object.keys(rule).sort(),
            ["ports", "to"],
            `${ARTIFACT_STORE_POLICY}: a rule with more than peers and ports`,
        );
    return { ...inputs, spec: { ...inputs.spec, egress: egress.map(() => ({ to: STORE_PEERS, ports: STORE_PEERS })) } };
}

/** A model version's deploy-settings ConfigMap with the identity entries (pod labels, envFrom) replaced, by key. */
function withoutIdentitySettings(type: string, inputs: Json): Json {
    if (type !== "kubernetes:core/v1:ConfigMap" || inputs?.metadata?.name !== DEPLOY_SETTINGS.configMap) return inputs;
    const data = { ...inputs.data };
    for (const k of [DEPLOY_SETTINGS.keys.podLabels, DEPLOY_SETTINGS.keys.podEnvFrom]) {
        assert.ok(k in data, `${DEPLOY_SETTINGS.configMap} lacks ${k}`);
        data[k] = "<identity>";
    }
    return { ...inputs, data };
}

/** The pipelines' settings ConfigMap with the values the platform decides replaced, key by key (the keys must match). */
function withoutPlatformSettings(type: string, inputs: Json): Json {
    if (type !== "kubernetes:core/v1:ConfigMap" || inputs?.metadata?.name !== SETTINGS_CONFIGMAP) return inputs;
    const data = { ...inputs.data };
    for (const k of PLATFORM_SETTINGS_KEYS) {
        assert.ok(k in data, `${SETTINGS_CONFIGMAP} lacks ${k}`);
        data[k] = "<platform>";
    }
    return { ...inputs, data };
}

/**
 * The platform's storage class (Platform.storageClass) in every claim the cluster layer makes: the one field of
 * volume claim templates allowed to differ (test/first-real-run.spec.ts checks each names its platform's class).
 */
function withoutStorageClass(inputs: unknown): unknown {
    if (Array.isArray(inputs)) return inputs.map(withoutStorageClass);
    if (!inputs || typeof inputs !== "object") return inputs;
    return Object.fromEntries(
        Object.entries(inputs)
            .filter(([k]) => k !== "storageClassName")
            .map(([k, v]) => [k, withoutStorageClass(v)]),
    );
}

/**
 * metrics-server is installed by the cluster layer only where the platform has none (Platform.metricsServer):
 * present on EKS and existing clusters, absent on AKS (test/first-real-run.spec.ts checks which).
 */
const METRICS_SERVER_OBJECT = "kubernetes:helm.sh/v3:Release//metrics-server-release";

/**
 * The dataset-change consumer runs what its platform says (Platform.datasetChanges: containers, scripts, egress,
 * identity): its objects are the one difference the contract allows by name. A test below checks every cloud runs
 * exactly its own consumer.
 */
const DATASET_CONSUMER_OBJECTS = [
    `kubernetes:apps/v1:Deployment/${PIPELINES_NAMESPACE}/${DATASET_CONSUMER.name}`,
    `kubernetes:core/v1:ServiceAccount/${PIPELINES_NAMESPACE}/${DATASET_CONSUMER.name}`,
    `kubernetes:networking.k8s.io/v1:NetworkPolicy/${PIPELINES_NAMESPACE}/${DATASET_CONSUMER.name}-egress`,
    `kubernetes:core/v1:ConfigMap/${PIPELINES_NAMESPACE}/${DATASET_CONSUMER.scripts.configMap}`,
];
/** Each cloud's consumer: its containers and images, and the scripts it ships (none: no scripts ConfigMap). */
const DATASET_CONSUMER_OF: Record<CloudName, { containers: [string, string][]; scripts: string[] }> = {
    aws: { containers: [["forward", IMAGES.awsCli]], scripts: [] },
    azure: { containers: [["forward", IMAGES.python]], scripts: ["dataset_change_event.py", "event_grid.py"] },
    existing: {
        containers: [
            ["tail", IMAGES.seaweedfs],
            ["forward", IMAGES.python],
        ],
        scripts: ["dataset_change_event.py", "seaweedfs_filer.py"],
    },
};

/** Kubernetes objects of the plan that the platform component did not create itself, keyed by kind/namespace/name. */
function clusterLayerObjects(plan: Plan, cloud: CloudName, facts: CloudFacts): Map<string, unknown> {
    const platform = plan.resources.find((r) => r.type === `mlops-testbed:${cloud}:Platform`);
    assert.ok(platform, `no ${cloud} platform component in the plan`);
    const own = new Set(descendantsOf(plan, platform.urn).map((r) => r.urn));
    const consumer = plan.resources.filter((r) =>
        DATASET_CONSUMER_OBJECTS.includes(
            `${r.type}/${(r.inputs as Json).metadata?.namespace}/${(r.inputs as Json).metadata?.name}`,
        ),
    );
    for (const r of consumer) own.add(r.urn);
    const out = new Map<string, unknown>();
    for (const r of plan.resources.filter(
        (x: PlannedResource) => x.custom && x.type.startsWith("kubernetes:") && !own.has(x.urn),
    )) {
        const meta = (r.inputs as Json).metadata ?? {};
        const key = `${r.type}/${meta.namespace ?? ""}/${meta.name ?? r.name}`;
        if (key === METRICS_SERVER_OBJECT) continue;
        out.set(
            key,
            normalize(
                withoutStorageClass(
                    withoutIdentitySettings(
                        r.type,
                        withoutPlatformSettings(r.type, withoutStorePeers(r.type, r.inputs)),
                    ),
                ),
                facts,
            ),
        );
    }
    return out;
}

function assertSameObjects(byCloud: Map<CloudName, Map<string, unknown>>): void {
    const [first, ...rest] = [...byCloud.entries()];
    for (const [cloud, objects] of rest) {
        assert.deepEqual(
            [...objects.keys()].sort(),
            [...first[1].keys()].sort(),
            `${cloud} and ${first[0]} create different Kubernetes objects`,
        );
        for (const [id, obj] of objects)
            assert.deepEqual(obj, first[1].get(id), `${id} differs between ${cloud} and ${first[0]}`);
    }
}

/**
 * A stand-in cluster layer, consuming only the Platform: a namespace whose model server runs on a GPU, from the
 * platform's registry, with read access to its model prefix. It uses what the real layer leaves to the deploy
 * pipeline (GPU scheduling, images, store env and the credentials Secret), so those are compared too.
 */
function fixtureClusterLayer(platform: Platform): WorkloadIdentityBinding[] {
    const opts = { provider: platform.k8sProvider, dependsOn: platform.clusterReady };
    const ns = new k8s.core.v1.Namespace("fixture-ns", { metadata: { name: "iris-v2" } }, opts);
    const binding = platform.bindWorkloadIdentity("fixture-identity", {
        namespace: ns.metadata.name,
        serviceAccount: "model-server",
        grants: [{ store: "models", prefix: "iris/v2/", access: "read" }],
    });
    new k8s.core.v1.ServiceAccount(
        "fixture-sa",
        {
            metadata: {
                name: "model-server",
                namespace: ns.metadata.name,
                annotations: binding.serviceAccountAnnotations,
            },
        },
        opts,
    );
    const gpu = platform.gpuScheduling;
    new k8s.apps.v1.Deployment(
        "fixture-server",
        {
            metadata: { name: "model-server", namespace: ns.metadata.name },
            spec: {
                selector: { matchLabels: { app: "model-server" } },
                template: {
                    metadata: { labels: { app: "model-server", ...binding.podLabels } },
                    spec: {
                        serviceAccountName: "model-server",
                        nodeSelector: { ...gpu.nodeSelector },
                        tolerations: [...gpu.tolerations],
                        containers: [
                            {
                                name: "server",
                                image: pulumi.interpolate`${platform.imageRegistry.repositoryUrl}:iris-v2`,
                                env: [
                                    { name: "STORE_ENDPOINT", value: platform.artifactStore.endpoint ?? "" },
                                    { name: "MODELS_BUCKET", value: platform.artifactStore.modelsBucket },
                                ],
                                envFrom: binding.credentialsSecret
                                    ? [{ secretRef: { name: binding.credentialsSecret } }]
                                    : [],
                                resources: { limits: { [gpu.resourceName]: "1" } },
                            },
                        ],
                    },
                },
            },
        },
        opts,
    );
    return [binding];
}

describe("Platform contract (aws, azure, existing)", function () {
    const plans = new Map<CloudName, Plan>();
    before(async () => {
        for (const [cloud, stack] of Object.entries(STACKS) as [CloudName, string][])
            plans.set(cloud, await planStack(stack, overridesFor(cloud)));
    });

    it("each stack file plans its cloud", () => {
        for (const [cloud, plan] of plans) assert.equal(plan.outputs.cloud, cloud);
    });

    it("every cloud exports exactly the documented output keys, secrets as secrets", () => {
        for (const [cloud, plan] of plans) {
            assert.deepEqual(Object.keys(plan.outputs), [...OUTPUT_KEYS], cloud);
            assert.deepEqual(
                Object.keys(plan.outputs.artifactStore as object).sort(),
                ["datasetsBucket", "endpoint", "kind", "modelsBucket", "region"],
                cloud,
            );
            for (const key of SECRET_OUTPUT_KEYS) {
                const v = plan.outputs[key];
                assert.ok(v === null || v === "[secret]", `${cloud}.${key} must be null or a secret`);
            }
            assert.equal(plan.outputs.kubeconfig, "[secret]", cloud);
        }
    });

    it("the cluster layer's Kubernetes objects are the same on every cloud", async () => {
        const byCloud = new Map<CloudName, Map<string, unknown>>();
        for (const [cloud, plan] of plans)
            byCloud.set(cloud, clusterLayerObjects(plan, cloud, await factsOf(plan, [])));
        assertSameObjects(byCloud);
    });

    it("every cloud runs its own dataset-change consumer, and ships only its own scripts", () => {
        for (const [cloud, plan] of plans) {
            const found = plan.resources.filter((r) =>
                DATASET_CONSUMER_OBJECTS.includes(
                    `${r.type}/${(r.inputs as Json).metadata?.namespace}/${(r.inputs as Json).metadata?.name}`,
                ),
            );
            const { containers, scripts } = DATASET_CONSUMER_OF[cloud];
            // The scripts ConfigMap only where the consumer runs a script.
            assert.equal(found.length, DATASET_CONSUMER_OBJECTS.length - (scripts.length > 0 ? 0 : 1), cloud);
            const cm = found.find((r) => r.type === "kubernetes:core/v1:ConfigMap")?.inputs as Json;
            assert.deepEqual(Object.keys(cm?.data ?? {}).sort(), scripts, cloud);
            const dep = found.find((r) => r.type === "kubernetes:apps/v1:Deployment")!.inputs as Json;
            assert.deepEqual(
                dep.spec.template.spec.containers.map((c: Json) => [c.name, c.image]),
                containers,
                cloud,
            );
        }
    });

    it("a layer built only on the Platform gets the same objects apart from identity, storage and cloud taints", async () => {
        const byCloud = new Map<CloudName, Map<string, unknown>>();
        for (const [cloud, stack] of Object.entries(STACKS) as [CloudName, string][]) {
            let bindings: WorkloadIdentityBinding[] = [];
            const { plan } = await planPlatform(stack, overridesFor(cloud), (p) => {
                bindings = fixtureClusterLayer(p);
            });
            const objects = clusterLayerObjects(plan, cloud, await factsOf(plan, bindings));
            assert.equal(objects.size, 3, `${cloud}: the fixture's namespace, service account and deployment`);
            byCloud.set(cloud, objects);
        }
        assertSameObjects(byCloud);
    });

    it("the comparison takes out identity and storage by key and field, and nothing else", () => {
        const facts: CloudFacts = {
            imageRegistry: "registry.example.com/model-server",
            credentialsSecrets: new Set(["creds"]),
        };
        const a = normalize(
            {
                metadata: { annotations: { [IRSA_ROLE_ARN_ANNOTATION]: "x", [NAMESPACE_ANNOTATIONS.podLabels]: "{}" } },
                spec: {
                    tolerations: [{ key: "nvidia.com/gpu" }],
                    containers: [
                        { image: "registry.example.com/model-server:v1", env: [{ name: "STORE_ENDPOINT", value: "" }] },
                    ],
                },
            },
            facts,
        );
        const b = normalize(
            {
                metadata: {
                    annotations: {
                        [WORKLOAD_IDENTITY_CLIENT_ID_ANNOTATION]: "y",
                        [NAMESPACE_ANNOTATIONS.podLabels]: '{"a":"b"}',
                    },
                    labels: { [WORKLOAD_IDENTITY_USE_LABEL]: "true" },
                },
                spec: {
                    tolerations: [{ key: "nvidia.com/gpu" }, { key: AKS_SPOT_TAINT.key }],
                    containers: [
                        {
                            image: "registry.example.com/model-server:v1",
                            env: [{ name: "STORE_ENDPOINT", value: "http://s3.local" }],
                            envFrom: [{ secretRef: { name: "creds" } }],
                        },
                    ],
                },
            },
            facts,
        );
        assert.deepEqual(a, b);
        // Not loosened: other tolerations, node selectors, other annotations, and a value that happens to equal a
        // bucket name ("models", also the gateway's name) all still count.
        assert.notDeepEqual(a, normalize({ spec: { tolerations: [{ key: "other" }] } }, facts));
        assert.notDeepEqual(
            normalize({ spec: { nodeSelector: { "mlops-testbed/node-role": "system" } } }, facts),
            normalize({ spec: {} }, facts),
        );
        assert.notDeepEqual(
            normalize({ metadata: { annotations: { other: "1" } } }, facts),
            normalize({ metadata: { annotations: { other: "2" } } }, facts),
        );
        assert.deepEqual(normalize({ metadata: { name: "models" } }, facts), { metadata: { name: "models" } });
        assert.notDeepEqual(
            normalize({ env: [{ name: "OTHER", value: "a" }] }, facts),
            normalize({ env: [{ name: "OTHER", value: "b" }] }, facts),
        );
    });

    it("only the artifact-store NetworkPolicy's egress peers are the platform's", () => {
        const type = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
        const policy = (name: string, cidr: string) => ({
            metadata: { name },
            spec: { egress: [{ to: [{ ipBlock: { cidr } }], ports: [{ port: 443 }] }] },
        });
        assert.deepEqual(
            withoutStorePeers(type, policy(ARTIFACT_STORE_POLICY, "0.0.0.0/0")),
            withoutStorePeers(type, policy(ARTIFACT_STORE_POLICY, "10.0.0.0/8")),
        );
        assert.notDeepEqual(
            withoutStorePeers(type, policy("allow-dns", "0.0.0.0/0")),
            withoutStorePeers(type, policy("allow-dns", "10.0.0.0/8")),
        );
    });
});
