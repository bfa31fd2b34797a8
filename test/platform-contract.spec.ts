/**
 * The Platform contract: with the same cluster-layer config, every cloud exports the same output keys and the
 * cluster layer produces the same Kubernetes objects, apart from what the Platform says is cloud-specific:
 * identity annotations and labels (and the credentials Secret where there is no token identity), storage
 * endpoints and bucket names, the image registry, and tolerations of taints a cloud puts on its own nodes.
 */
import * as assert from "node:assert/strict";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { AKS_SPOT_TAINT } from "../components/azure/gpu-node-pool";
import type { Platform, WorkloadIdentityBinding } from "../components/platform";
import type { CloudName } from "../infra/schema/platform";
import { OUTPUT_KEYS, SECRET_OUTPUT_KEYS } from "../infra/outputs";
import type { Plan, PlannedResource } from "../tools/mock-runtime";
import { descendantsOf, planStack } from "./harness";
import { planPlatform } from "./platform-harness";

/** One stack file per cloud; the cluster-layer config below is laid over each. */
const STACKS: Record<CloudName, string> = { aws: "dev", azure: "azure-example", existing: "existing-example" };

const CLUSTER_LAYER_CONFIG = {
    models: [{ name: "iris", versions: [{ name: "v1" }, { name: "v2", gpu: 1 }], traffic: { strategy: "canary", weights: { v1: 90, v2: 10 } } }],
    quotaDefaults: { cpu: "4", memory: "16Gi", gpu: 1, pods: 10, storage: "20Gi" },
    monitoring: { retention: "7d", storageSize: "20Gi" },
    pipelines: { keepRuns: 20 },
};

/** Taints a cloud adds to its own nodes (not chosen by the testbed); tolerating them is cloud-specific. */
const CLOUD_TAINT_KEYS: readonly string[] = [AKS_SPOT_TAINT.key];

interface CloudFacts {
    /** Bucket names, replaced by a placeholder where a whole string equals one. */
    readonly values: Map<string, string>;
    /** Storage endpoint and registry URLs, replaced by a placeholder wherever they occur in a string. */
    readonly urls: Map<string, string>;
    readonly identityAnnotationKeys: Set<string>;
    readonly identityLabelKeys: Set<string>;
    readonly credentialsSecrets: Set<string>;
}

async function factsOf(plan: Plan, bindings: readonly WorkloadIdentityBinding[]): Promise<CloudFacts> {
    const store = plan.rawOutputs.artifactStore as Record<string, string | null>;
    const values = new Map<string, string>();
    const urls = new Map<string, string>();
    const add = (into: Map<string, string>, v: unknown, placeholder: string) => {
        if (typeof v === "string" && v !== "") into.set(v, placeholder);
    };
    add(urls, store.endpoint, STORE_ENDPOINT);
    add(urls, plan.rawOutputs.imageRegistry, "<image-registry>");
    add(values, store.modelsBucket, "<models-bucket>");
    add(values, store.datasetsBucket, "<datasets-bucket>");
    const facts: CloudFacts = { values, urls, identityAnnotationKeys: new Set(), identityLabelKeys: new Set(), credentialsSecrets: new Set() };
    for (const b of bindings) {
        const annotations = await new Promise<Record<string, string>>((r) => b.serviceAccountAnnotations.apply(r));
        Object.keys(annotations).forEach((k) => facts.identityAnnotationKeys.add(k));
        Object.keys(b.podLabels).forEach((k) => facts.identityLabelKeys.add(k));
        if (b.credentialsSecret) facts.credentialsSecrets.add(await new Promise<string>((r) => b.credentialsSecret!.apply(r)));
    }
    return facts;
}

const STORE_ENDPOINT = "<store-endpoint>";

/**
 * A Kubernetes object with every allowed cloud-specific difference taken out; empty maps and lists dropped. A
 * store endpoint is null (the cloud's default) on AWS, so env entries that carry one (or an empty value) go.
 */
function normalize(value: unknown, facts: CloudFacts, key = ""): unknown {
    if (typeof value === "string") {
        let s = facts.values.get(value) ?? value;
        for (const [url, placeholder] of facts.urls) s = s.split(url).join(placeholder);
        return s;
    }
    if (Array.isArray(value)) {
        let items = value;
        if (key === "tolerations") items = items.filter((t) => !CLOUD_TAINT_KEYS.includes(t?.key));
        if (key === "envFrom") items = items.filter((e) => !facts.credentialsSecrets.has(e?.secretRef?.name));
        let out = items.map((v) => normalize(v, facts));
        if (key === "env") out = out.filter((e: any) => e?.value !== STORE_ENDPOINT && e?.value !== "");
        return out.length > 0 ? out : undefined;
    }
    if (value && typeof value === "object") {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(value)) {
            if (key === "annotations" && facts.identityAnnotationKeys.has(k)) continue;
            if (key === "labels" && facts.identityLabelKeys.has(k)) continue;
            const n = normalize(v, facts, k);
            if (n !== undefined) out[k] = n;
        }
        return Object.keys(out).length > 0 ? out : undefined;
    }
    return value;
}

/** Kubernetes objects of the plan that the platform component did not create itself, keyed by kind/namespace/name. */
function clusterLayerObjects(plan: Plan, cloud: CloudName, facts: CloudFacts): Map<string, unknown> {
    const platform = plan.resources.find((r) => r.type === `mlops-testbed:${cloud}:Platform`);
    assert.ok(platform, `no ${cloud} platform component in the plan`);
    const own = new Set(descendantsOf(plan, platform.urn).map((r) => r.urn));
    const out = new Map<string, unknown>();
    for (const r of plan.resources.filter((x: PlannedResource) => x.custom && x.type.startsWith("kubernetes:") && !own.has(x.urn))) {
        const meta = (r.inputs as any).metadata ?? {};
        out.set(`${r.type}/${meta.namespace ?? ""}/${meta.name ?? r.name}`, normalize(r.inputs, facts));
    }
    return out;
}

function assertSameObjects(byCloud: Map<CloudName, Map<string, unknown>>): void {
    const [first, ...rest] = [...byCloud.entries()];
    for (const [cloud, objects] of rest) {
        assert.deepEqual([...objects.keys()].sort(), [...first[1].keys()].sort(), `${cloud} and ${first[0]} create different Kubernetes objects`);
        for (const [id, obj] of objects) assert.deepEqual(obj, first[1].get(id), `${id} differs between ${cloud} and ${first[0]}`);
    }
}

/**
 * A stand-in for the cluster layer, consuming only the Platform: a model-version namespace whose server runs on
 * a GPU with read access to its model prefix. Keeps the comparison meaningful before the real layer exists.
 */
function fixtureClusterLayer(platform: Platform): WorkloadIdentityBinding[] {
    const opts = { provider: platform.k8sProvider, dependsOn: platform.clusterReady };
    const ns = new k8s.core.v1.Namespace("fixture-ns", { metadata: { name: "iris-v2" } }, opts);
    const binding = platform.bindWorkloadIdentity("fixture-identity", {
        namespace: ns.metadata.name,
        serviceAccount: "model-server",
        grants: [{ store: "models", prefix: "iris/v2/", access: "read" }],
    });
    new k8s.core.v1.ServiceAccount("fixture-sa", {
        metadata: { name: "model-server", namespace: ns.metadata.name, annotations: binding.serviceAccountAnnotations },
    }, opts);
    const gpu = platform.gpuScheduling;
    new k8s.apps.v1.Deployment("fixture-server", {
        metadata: { name: "model-server", namespace: ns.metadata.name },
        spec: {
            selector: { matchLabels: { app: "model-server" } },
            template: {
                metadata: { labels: { app: "model-server", ...binding.podLabels } },
                spec: {
                    serviceAccountName: "model-server",
                    nodeSelector: { ...gpu.nodeSelector },
                    tolerations: [...gpu.tolerations],
                    containers: [{
                        name: "server",
                        image: pulumi.interpolate`${platform.imageRegistry.repositoryUrl}:iris-v2`,
                        env: [
                            { name: "STORE_ENDPOINT", value: platform.artifactStore.endpoint ?? "" },
                            { name: "MODELS_BUCKET", value: platform.artifactStore.modelsBucket },
                        ],
                        envFrom: binding.credentialsSecret ? [{ secretRef: { name: binding.credentialsSecret } }] : [],
                        resources: { limits: { [gpu.resourceName]: "1" } },
                    }],
                },
            },
        },
    }, opts);
    return [binding];
}

describe("Platform contract (aws, azure, existing)", function () {
    const plans = new Map<CloudName, Plan>();
    before(async () => {
        for (const [cloud, stack] of Object.entries(STACKS) as [CloudName, string][]) plans.set(cloud, await planStack(stack, CLUSTER_LAYER_CONFIG));
    });

    it("each stack file plans its cloud", () => {
        for (const [cloud, plan] of plans) assert.equal(plan.outputs.cloud, cloud);
    });

    it("every cloud exports exactly the documented output keys, secrets as secrets", () => {
        for (const [cloud, plan] of plans) {
            assert.deepEqual(Object.keys(plan.outputs), [...OUTPUT_KEYS], cloud);
            assert.deepEqual(Object.keys(plan.outputs.artifactStore as object).sort(), ["datasetsBucket", "endpoint", "kind", "modelsBucket", "region"], cloud);
            for (const key of SECRET_OUTPUT_KEYS) {
                const v = plan.outputs[key];
                assert.ok(v === null || v === "[secret]", `${cloud}.${key} must be null or a secret`);
            }
            assert.equal(plan.outputs.kubeconfig, "[secret]", cloud);
        }
    });

    it("the cluster layer's Kubernetes objects are the same on every cloud", async () => {
        const byCloud = new Map<CloudName, Map<string, unknown>>();
        for (const [cloud, plan] of plans) byCloud.set(cloud, clusterLayerObjects(plan, cloud, await factsOf(plan, [])));
        assertSameObjects(byCloud);
    });

    it("a layer built only on the Platform gets the same objects apart from identity, storage and cloud taints", async () => {
        const byCloud = new Map<CloudName, Map<string, unknown>>();
        for (const [cloud, stack] of Object.entries(STACKS) as [CloudName, string][]) {
            let bindings: WorkloadIdentityBinding[] = [];
            const { plan } = await planPlatform(stack, CLUSTER_LAYER_CONFIG, (p) => {
                bindings = fixtureClusterLayer(p);
            });
            const objects = clusterLayerObjects(plan, cloud, await factsOf(plan, bindings));
            assert.equal(objects.size, 3, `${cloud}: the fixture's namespace, service account and deployment`);
            byCloud.set(cloud, objects);
        }
        assertSameObjects(byCloud);
    });

    it("the comparison does see a difference the contract does not allow", () => {
        const facts: CloudFacts = { values: new Map(), urls: new Map(), identityAnnotationKeys: new Set(["a/role"]), identityLabelKeys: new Set(), credentialsSecrets: new Set() };
        const a = normalize({ metadata: { annotations: { "a/role": "x" } }, spec: { tolerations: [{ key: "nvidia.com/gpu" }] } }, facts);
        const b = normalize({ metadata: { annotations: { "a/role": "y" } }, spec: { tolerations: [{ key: "nvidia.com/gpu" }, { key: AKS_SPOT_TAINT.key }] } }, facts);
        assert.deepEqual(a, b);
        const c = normalize({ spec: { tolerations: [{ key: "other" }] } }, facts);
        assert.notDeepEqual(a, c);
    });
});
