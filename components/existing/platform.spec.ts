import * as assert from "node:assert/strict";
import { STORE_CONFIG_KEY, STORE_CONFIG_SECRET, seaweedfsActions, seaweedfsValues } from "./seaweedfs";
import { credentialsSecretName } from "./store-identity";
import { DEPLOY_SETTINGS, MODEL_SERVER, NAMESPACE_ANNOTATIONS } from "../../contract/names";
import type { WorkloadIdentityBinding } from "../../contract/platform";
import { CHARTS } from "../../contract/versions";
import { COMPUTED, type Plan } from "../../tools/mock-runtime";
import { findResource, planConfigIssues, planStack, resourcesOfType } from "../../test/harness";
import { MODELS, VERSIONS } from "../../test/model-fixtures";
import { planPlatform, valueOf } from "../../test/platform-harness";
import { chartFactsOf, unknownValueKeys } from "../../test/upstream-facts";
import type { Json } from "../../test/json";

const STACK = "existing-example";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const SECRET = "kubernetes:core/v1:Secret";

/** Every generated credential (the mock's RandomPassword results) must appear nowhere in clear. */
function assertNoGeneratedCredentialInClear(plan: Plan): void {
    const passwords = resourcesOfType(plan, "random:index/randomPassword:RandomPassword");
    assert.ok(passwords.length >= 2);
    const everything = JSON.stringify({ resources: plan.resources, outputs: plan.outputs, raw: plan.rawOutputs });
    for (const p of passwords) {
        const value = COMPUTED[p.type](p.name, p.inputs, { region: "", project: plan.project, stack: plan.stack })
            .result as string;
        assert.ok(!everything.includes(value), `${p.name}'s generated value appears in clear in the plan`);
    }
}

describe("Existing-cluster platform", function () {
    let plan: Plan;
    before(async () => {
        plan = await planStack(STACK);
    });

    it("talks to the cluster only through a provider built from the secret kubeconfig", () => {
        const provider = resourcesOfType(plan, "pulumi:providers:kubernetes");
        assert.equal(provider.length, 1);
        assert.equal(provider[0].inputs.kubeconfig, "[secret]");
        assert.deepEqual(provider[0].secretInputs, ["kubeconfig"]);
        for (const r of plan.resources.filter((x) => x.custom && x.type.startsWith("kubernetes:"))) {
            assert.ok(r.provider?.startsWith(provider[0].urn), `${r.name} uses the explicit provider`);
        }
        assert.equal(plan.outputs.kubeconfig, "[secret]");
    });

    it("creates nothing outside the cluster", () => {
        const kinds = new Set(plan.resources.filter((r) => r.custom).map((r) => r.type.split(":")[0]));
        assert.deepEqual([...kinds].sort(), ["kubernetes", "pulumi", "random"]);
    });

    it("installs SeaweedFS 4.44.0 with the S3 gateway, authentication on, and its identities in our Secret", () => {
        const release = findResource(plan, RELEASE, "existing-store-release");
        const i = release.inputs as Json;
        assert.equal(i.chart, "seaweedfs");
        assert.equal(i.version, "4.44.0");
        assert.equal(i.repositoryOpts.repo, "https://seaweedfs.github.io/seaweedfs/helm");
        assert.equal(i.values.s3.enabled, true);
        assert.equal(i.values.s3.enableAuth, true);
        assert.equal(i.values.s3.existingConfigSecret, STORE_CONFIG_SECRET);
        const secret = findResource(plan, SECRET, "existing-store-s3-config");
        assert.equal((secret.inputs as Json).metadata.name, STORE_CONFIG_SECRET);
        assert.deepEqual(secret.secretInputs, ["stringData"]);
        assert.ok(release.dependsOn.includes(secret.urn), "the release waits for its config Secret");
    });

    it("creates the models and datasets buckets with versioning through the chart's idempotent bucket hook", () => {
        const values = (findResource(plan, RELEASE, "existing-store-release").inputs as Json).values;
        assert.deepEqual(values.s3.createBuckets, [
            { name: "models", versioning: "Enabled" },
            { name: "datasets", versioning: "Enabled" },
        ]);
    });

    it("every Helm value key exists in the pinned chart's values.yaml", () => {
        const facts = chartFactsOf(CHARTS.seaweedfs);
        const set = (findResource(plan, RELEASE, "existing-store-release").inputs as Json).values;
        const unknown = unknownValueKeys(set, [facts.keys]);
        // s3.createBuckets is documented only as a commented example in values.yaml (under the top-level s3 key).
        assert.ok(facts.commentedKeys.includes("s3.createBuckets"), "createBuckets is documented for s3");
        assert.deepEqual(unknown, ["s3.createBuckets"]);
        assert.deepEqual(facts.documentedSecretKeys.s3, [STORE_CONFIG_KEY], "our Secret uses the key the chart reads");
        // The same check over a non-default configuration.
        const custom = seaweedfsValues({
            storageClass: "fast",
            storeSize: "200Gi",
            nodeSelector: { "node-role": "infra" },
        });
        assert.deepEqual(unknownValueKeys(custom, [facts.keys]), ["s3.createBuckets"]);
        assert.equal(custom.master.nodeSelector, "node-role: infra", "the chart templates nodeSelector from a string");
    });

    it("outputs the in-cluster S3 endpoint, the configured registry and no region or issuer", () => {
        assert.deepEqual(plan.outputs.artifactStore, {
            kind: "s3-compatible",
            modelsBucket: "models",
            datasetsBucket: "datasets",
            region: null,
            endpoint: "http://seaweedfs-s3.object-store.svc.cluster.local:8333",
        });
        assert.equal(plan.outputs.imageRegistry, "kind-registry:5000/model-server");
        assert.equal(plan.outputs.region, null);
        assert.equal(plan.outputs.oidcIssuer, null);
        assert.equal(plan.outputs.clusterName, "kind-mlops");
        assert.deepEqual(plan.outputs.gpuNodePools, []);
    });

    it("the store's namespace and release are protected and retained only when artifactStores.protection is protected", async () => {
        const stateful = (p: Plan) =>
            [
                findResource(p, "kubernetes:core/v1:Namespace", "existing-store-namespace"),
                findResource(p, RELEASE, "existing-store-release"),
            ].map((r) => [r.protect, r.retainOnDelete]);
        assert.deepEqual(
            stateful(plan),
            [
                [false, false],
                [false, false],
            ],
            "the example is disposable",
        );
        const prod = await planStack(STACK, { artifactStores: { protection: "protected" } });
        assert.deepEqual(stateful(prod), [
            [true, true],
            [true, true],
        ]);
    });

    it("store credentials are generated and never in plaintext", () => {
        assertNoGeneratedCredentialInClear(plan);
        for (const s of resourcesOfType(plan, SECRET)) assert.deepEqual(s.secretInputs, ["stringData"], s.name);
    });

    it("GPU scheduling follows the configured node label and taints", async () => {
        const custom = await planPlatform(
            STACK,
            {
                existing: {
                    imageRegistry: "registry.example.com/mlops/model-server",
                    gpu: {
                        nodeLabel: { key: "accelerator", value: "nvidia" },
                        taints: [{ key: "gpu", effect: "NoExecute" }],
                    },
                },
            },
            () => {},
        );
        assert.deepEqual(custom.platform.gpuScheduling.nodeSelector, { accelerator: "nvidia" });
        assert.deepEqual(custom.platform.gpuScheduling.tolerations, [
            { key: "gpu", operator: "Exists", effect: "NoExecute" },
        ]);
        const plugin = findResource(custom.plan, RELEASE, "existing-nvidia-release").inputs as Json;
        const term =
            plugin.values.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0];
        assert.deepEqual(term.matchExpressions, [{ key: "accelerator", operator: "In", values: ["nvidia"] }]);
        const noPlugin = await planStack(STACK, {
            existing: { imageRegistry: "kind-registry:5000/model-server", gpu: { installDevicePlugin: false } },
        });
        assert.equal(resourcesOfType(noPlugin, "mlops-testbed:gpu:NvidiaDevicePlugin").length, 0);
    });
});

describe("Existing-cluster workload identity (per-service-account S3 keys)", function () {
    let plan: Plan;
    let binding: WorkloadIdentityBinding;
    before(async () => {
        ({ plan } = await planPlatform(STACK, {}, (platform) => {
            binding = platform.bindWorkloadIdentity("iris-v1-server", {
                namespace: "iris-v1",
                serviceAccount: "model-server",
                grants: [{ store: "models", prefix: "iris/v1/", access: "read" }],
            });
        }));
    });

    it("limits the identity to the granted prefixes (SeaweedFS actions)", () => {
        assert.deepEqual(seaweedfsActions([{ store: "models", prefix: "iris/v1/", access: "read" }]), [
            "Read:models/iris/v1/*",
            "List:models/iris/v1/*",
        ]);
        assert.deepEqual(seaweedfsActions([{ store: "datasets", prefix: "", access: "read-write" }]), [
            "Read:datasets",
            "Write:datasets",
            "Tagging:datasets",
            "List:datasets",
        ]);
        assert.throws(() => seaweedfsActions([{ store: "models", prefix: "iris/*", access: "read" }]), /wildcards/);
        const job = findResource(plan, "kubernetes:batch/v1:Job", "existing-iris-v1-server-configure").inputs as Json;
        const env = job.spec.template.spec.containers[0].env as Json[];
        assert.equal(env.find((e) => e.name === "S3_ACTIONS").value, "Read:models/iris/v1/*,List:models/iris/v1/*");
        assert.equal(env.find((e) => e.name === "S3_USER").value, "wl-iris-v1-model-server");
    });

    it("the Job gets the keys from a Secret, never as literal values", () => {
        const job = findResource(plan, "kubernetes:batch/v1:Job", "existing-iris-v1-server-configure").inputs as Json;
        const env = job.spec.template.spec.containers[0].env as Json[];
        for (const name of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]) {
            const e = env.find((x) => x.name === name);
            assert.equal(e.value, undefined);
            assert.ok(e.valueFrom.secretKeyRef.name);
        }
        assert.equal(job.metadata.namespace, "object-store");
    });

    it("puts the credentials in a secret Secret in the workload's namespace and names it in the binding", async () => {
        const secret = findResource(plan, SECRET, "existing-iris-v1-server-credentials");
        assert.equal((secret.inputs as Json).metadata.namespace, "iris-v1");
        assert.equal((secret.inputs as Json).metadata.name, "model-server-store-credentials");
        assert.deepEqual(secret.secretInputs, ["stringData"]);
        assert.equal(await valueOf(binding.credentialsSecret!), "model-server-store-credentials");
        assert.deepEqual(binding.podLabels, {});
        assert.deepEqual(await valueOf(binding.serviceAccountAnnotations), {});
        assertNoGeneratedCredentialInClear(plan);
    });
});

describe("Model-version namespaces on an existing cluster", function () {
    let plan: Plan;
    before(async () => {
        plan = await planStack(STACK, { models: MODELS });
    });

    for (const { namespace } of VERSIONS) {
        it(`${namespace}: the store credentials Secret is in the namespace, after it, and named in its pod-env-from annotation`, () => {
            const ns = resourcesOfType(plan, "kubernetes:core/v1:Namespace").find(
                (r) => (r.inputs as Json).metadata.name === namespace,
            );
            assert.ok(ns, namespace);
            const secrets = resourcesOfType(plan, SECRET).filter(
                (r) => (r.inputs as Json).metadata.namespace === namespace,
            );
            assert.equal(secrets.length, 1, `one credentials Secret in ${namespace}`);
            const [secret] = secrets;
            const name = (secret.inputs as Json).metadata.name;
            assert.equal(name, credentialsSecretName(MODEL_SERVER.serviceAccount));
            assert.deepEqual(secret.secretInputs, ["stringData"]);
            assert.ok(secret.propertyDependencies.metadata?.includes(ns.urn), "the Secret waits for its namespace");
            assert.deepEqual(JSON.parse((ns.inputs as Json).metadata.annotations[NAMESPACE_ANNOTATIONS.podEnvFrom]), [
                { secretRef: { name } },
            ]);
            assert.equal((ns.inputs as Json).metadata.annotations[NAMESPACE_ANNOTATIONS.podLabels], "{}");
            // The deploy step reads it from the namespace's settings ConfigMap and puts it on the model fetcher.
            const settings = resourcesOfType(plan, "kubernetes:core/v1:ConfigMap").find(
                (r) =>
                    (r.inputs as Json).metadata.namespace === namespace &&
                    (r.inputs as Json).metadata.name === DEPLOY_SETTINGS.configMap,
            );
            assert.ok(settings, `${namespace} has ${DEPLOY_SETTINGS.configMap}`);
            assert.deepEqual(JSON.parse((settings.inputs as Json).data[DEPLOY_SETTINGS.keys.podEnvFrom]), [
                { secretRef: { name } },
            ]);
        });
    }

    it("each version's identity reads only its own model prefix", () => {
        for (const { model, version, namespace } of VERSIONS) {
            const job = findResource(
                plan,
                "kubernetes:batch/v1:Job",
                `existing-model-${model}-${version}-identity-configure`,
            ).inputs as Json;
            const env = job.spec.template.spec.containers[0].env as Json[];
            assert.equal(
                env.find((e) => e.name === "S3_ACTIONS").value,
                `Read:models/models/${model}/${version}/*,List:models/models/${model}/${version}/*`,
            );
            assert.equal(env.find((e) => e.name === "S3_USER").value, `wl-${namespace}-${MODEL_SERVER.serviceAccount}`);
        }
    });

    it("no generated credential is in plaintext, in resources or outputs", () => {
        assertNoGeneratedCredentialInClear(plan);
        for (const s of resourcesOfType(plan, SECRET)) assert.deepEqual(s.secretInputs, ["stringData"], s.name);
    });
});

describe("Existing-cluster configuration", function () {
    it("refuses a kubeconfig that is not a secret, without echoing it", async () => {
        const text = "apiVersion: v1\nkind: Config\nusers: [{name: admin, user: {token: hunter2}}]";
        const issues = await planConfigIssues(STACK, { kubeconfig: text });
        const issue = issues.find((i) => i.key === "mlops-testbed:kubeconfig");
        assert.ok(issue, JSON.stringify(issues));
        assert.match(issue.message, /must be a secret: pulumi config set --secret kubeconfig/);
        assert.ok(!JSON.stringify(issues).includes("hunter2"));
    });

    it("needs the kubeconfig, the existing section, and no gpuNodePools", async () => {
        const issues = await planConfigIssues(STACK, {
            kubeconfig: undefined,
            existing: undefined,
            gpuNodePools: [
                { name: "t4", instanceTypes: ["g4dn.xlarge"], capacityType: "spot", minSize: 0, maxSize: 1 },
            ],
        });
        assert.deepEqual(issues.map((i) => i.key).sort(), [
            "mlops-testbed:existing",
            "mlops-testbed:gpuNodePools",
            "mlops-testbed:kubeconfig",
        ]);
        assert.match(issues.find((i) => i.key === "mlops-testbed:gpuNodePools")!.message, /existing\.gpu/);
    });

    it("reports existing-cluster rules alongside schema problems, in one pass", async () => {
        const issues = await planConfigIssues(STACK, {
            existing: {
                imageRegistry: "kind-registry:5000/model-server",
                storeSize: "lots",
                gpu: {
                    taints: [
                        { key: "gpu", effect: "NoSchedule" },
                        { key: "gpu", effect: "NoSchedule" },
                    ],
                },
            },
            gpuNodePools: [
                { name: "t4", instanceTypes: ["g4dn.xlarge"], capacityType: "spot", minSize: 0, maxSize: 1 },
            ],
        });
        assert.deepEqual(issues.map((i) => i.key).sort(), [
            "mlops-testbed:existing.gpu.taints[1]",
            "mlops-testbed:existing.storeSize",
            "mlops-testbed:gpuNodePools",
        ]);
    });

    it("checks the image registry and store size", async () => {
        const issues = await planConfigIssues(STACK, {
            existing: { imageRegistry: "https://registry.example.com/x:latest", storeSize: "lots" },
        });
        assert.deepEqual(issues.map((i) => i.key).sort(), [
            "mlops-testbed:existing.imageRegistry",
            "mlops-testbed:existing.storeSize",
        ]);
    });
});
