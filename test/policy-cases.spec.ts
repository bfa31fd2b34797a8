/**
 * Each policy of the pack against a compliant and a violating case: real plans (as they are, or changed the way a
 * careless edit or a bad stack file would change them) for what the program creates today, and small hand-made
 * resources for what it does not create yet (Azure, Tekton, workload controllers).
 */
import * as assert from "node:assert/strict";
import { isCredentialKey, secretLookingValue } from "../policy/lib/secrets";
import { unpinnedReason, isExactChartVersion } from "../policy/lib/images";
import { podSpecsOf } from "../policy/lib/pod-specs";
import {
    analyzedResources,
    formatViolations,
    runPolicies,
    type AnalyzedResource,
    type PackConfig,
} from "../policy/offline";
import { POLICIES } from "../policy/policies";
import { GPU_TAINT } from "../policy/policies/workloads";
import { loadStack } from "../tools/stack";
import { planStack } from "./harness";
import type { Json } from "./json";

type Resources = AnalyzedResource[];

function res(
    stack: string,
    type: string,
    name: string,
    props: Record<string, Json>,
    extra: Partial<AnalyzedResource> = {},
): AnalyzedResource {
    return {
        urn: `urn:pulumi:${stack}::mlops-testbed::${type}::${name}`,
        type,
        name,
        props,
        protect: false,
        ignoreChanges: [],
        dependencies: [],
        propertyDependencies: {},
        ...extra,
    };
}

function named(rs: Resources, name: string): AnalyzedResource {
    const r = rs.find((x) => x.name === name);
    assert.ok(r, `no resource named ${name}`);
    return r;
}

const without = (rs: Resources, ...names: string[]): Resources => {
    for (const n of names) named(rs, n);
    return rs.filter((r) => !names.includes(r.name));
};

/** A copy of the resources where `name`'s properties are changed by `change` (on a deep copy). */
function edit(rs: Resources, name: string, change: (props: Record<string, Json>) => void): Resources {
    named(rs, name);
    return rs.map((r) => {
        if (r.name !== name) return r;
        const props = structuredClone(r.props);
        change(props);
        return { ...r, props };
    });
}

const stackConfig = (stack: string, key: string) => JSON.parse(loadStack(stack).config[`mlops-testbed:${key}`]);

// ---- hand-made resources for what the program does not create yet --------------------------------------------

const deployment = (
    stack: string,
    name: string,
    container: Record<string, Json>,
    pod: Record<string, Json> = {},
    kind = "Deployment",
    namespace = "apps",
) =>
    res(stack, `kubernetes:apps/v1:${kind}`, name, {
        metadata: { name, namespace },
        spec: {
            template: {
                spec: {
                    containers: [
                        {
                            name: "main",
                            image: "registry.example/app:1.2.3",
                            resources: { requests: { cpu: "100m", memory: "128Mi" } },
                            ...container,
                        },
                    ],
                    ...pod,
                },
            },
        },
    });

/** A Namespace the stack creates, enforcing a Pod Security level. */
const podSecurityNamespace = (name: string, level: string) =>
    res("dev", "kubernetes:core/v1:Namespace", `ns-${name}`, {
        metadata: { name, labels: { "pod-security.kubernetes.io/enforce": level } },
    });
/** A container and a pod that meet the restricted level. */
const RESTRICTED_CONTAINER = {
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
};
const RESTRICTED_POD = { securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } } };

const gpuToleration = { key: GPU_TAINT.key, operator: "Exists", effect: GPU_TAINT.effect };

const task = (stack: string, steps: Json[], extra: Record<string, Json> = {}) =>
    res(stack, "kubernetes:tekton.dev/v1:Task", "train", {
        metadata: { name: "train", namespace: "pipelines" },
        spec: { steps, ...extra },
    });

const helm = (stack: string, name: string, chart: string, values: Record<string, Json>, version = "1.2.3") =>
    res(stack, "kubernetes:helm.sh/v3:Release", name, { chart, version, name, namespace: "tools", values });

/** An Azure store: account, blob service and container, linked as the program would link them. */
function azureStore(
    stack: string,
    account: Record<string, Json> = {},
    blobService: Record<string, Json> = {},
    container: Record<string, Json> = {},
    opts: Partial<AnalyzedResource> = {},
): Resources {
    const acct = res(
        stack,
        "azure-native:storage:StorageAccount",
        "store-account",
        {
            kind: "StorageV2",
            enableHttpsTrafficOnly: true,
            minimumTlsVersion: "TLS1_2",
            allowBlobPublicAccess: false,
            allowSharedKeyAccess: false,
            ...account,
        },
        opts,
    );
    const link = { propertyDependencies: { accountName: [acct.urn] }, dependencies: [acct.urn] };
    return [
        acct,
        res(
            stack,
            "azure-native:storage:BlobServiceProperties",
            "store-blob-service",
            { accountName: "acct", isVersioningEnabled: true, ...blobService },
            link,
        ),
        res(
            stack,
            "azure-native:storage:BlobContainer",
            "store-models",
            { accountName: "acct", containerName: "models", publicAccess: "None", ...container },
            { ...link, ...opts },
        ),
    ];
}

/** An AKS cluster with Key Vault KMS and, unless `audit` is false, a diagnostic setting keeping kube-audit. */
function aks(stack: string, cluster: Record<string, Json> = {}, audit: Record<string, Json> | false = {}): Resources {
    const c = res(stack, "azure-native:containerservice:ManagedCluster", "aks", {
        kubernetesVersion: "1.34",
        securityProfile: {
            azureKeyVaultKms: {
                enabled: true,
                keyId: "https://kv.vault.azure.net/keys/etcd/1",
                keyVaultNetworkAccess: "Public",
            },
        },
        apiServerAccessProfile: { enablePrivateCluster: false, authorizedIPRanges: ["203.0.113.0/24"] },
        ...cluster,
    });
    if (audit === false) return [c];
    const setting = res(
        stack,
        "azure-native:monitor:DiagnosticSetting",
        "aks-audit",
        {
            resourceUri: "/subscriptions/x/aks",
            logs: [{ category: "kube-audit-admin", enabled: true }],
            ...audit,
        },
        { propertyDependencies: { resourceUri: [c.urn] }, dependencies: [c.urn] },
    );
    return [c, setting];
}

// ---- the cases ----------------------------------------------------------------------------------------------

interface Case {
    readonly title: string;
    readonly resources: () => Resources | Promise<Resources>;
    readonly config?: PackConfig;
    /** Every one must match a violation message; empty for a compliant case. */
    readonly expect: readonly RegExp[];
}

let dev: Resources;
let prod: Resources;
/** The Azure example stack's plan, made once by the first case that needs it. */
let azurePlan: Promise<Resources> | undefined;
const azure = () => (azurePlan ??= planStack("azure-example").then(analyzedResources));

const ok = (title: string, resources: Case["resources"], config?: PackConfig): Case => ({
    title,
    resources,
    config,
    expect: [],
});
const bad = (title: string, resources: Case["resources"], expect: RegExp[], config?: PackConfig): Case => ({
    title,
    resources,
    config,
    expect,
});

const CASES: Record<string, { compliant: Case[]; violating: Case[] }> = {
    "storage-encrypted": {
        compliant: [
            ok("dev buckets (SSE-KMS)", () => dev),
            ok("an Azure account with service encryption", () => azureStore("dev")),
        ],
        violating: [
            bad("a bucket without its encryption configuration", () => without(dev, "aws-store-models-sse"), [
                /aws-store-models-bucket.*no default encryption with a KMS key/,
            ]),
            bad(
                "a bucket encrypted with S3-managed keys only",
                () =>
                    edit(
                        dev,
                        "aws-store-datasets-sse",
                        (p) => (p.rules[0].applyServerSideEncryptionByDefault = { sseAlgorithm: "AES256" }),
                    ),
                [/aws-store-datasets-bucket/],
            ),
            bad(
                "an Azure account switching blob encryption off",
                () => azureStore("dev", { encryption: { services: { blob: { enabled: false } } } }),
                [/store-account: switches encryption/],
            ),
        ],
    },
    "storage-versioned": {
        compliant: [ok("dev buckets", () => dev), ok("an Azure account with blob versioning", () => azureStore("dev"))],
        violating: [
            bad("a bucket without versioning", () => without(dev, "aws-store-models-versioning"), [
                /aws-store-models-bucket: is not versioned/,
            ]),
            bad(
                "versioning suspended",
                () =>
                    edit(dev, "aws-store-datasets-versioning", (p) => (p.versioningConfiguration.status = "Suspended")),
                [/aws-store-datasets-bucket: is not versioned/],
            ),
            bad(
                "an Azure account without blob versioning",
                () => azureStore("dev", {}, { isVersioningEnabled: false }),
                [/store-account: has no blob versioning/],
            ),
        ],
    },
    "storage-not-public": {
        compliant: [
            ok("dev buckets", () => dev),
            ok("an Azure account and private container", () => azureStore("dev")),
        ],
        violating: [
            bad(
                "a public access block that allows public policies",
                () => edit(dev, "aws-store-models-public-access", (p) => (p.blockPublicPolicy = false)),
                [/aws-store-models-bucket: does not block public access/],
            ),
            bad("no public access block", () => without(dev, "aws-store-datasets-public-access"), [
                /aws-store-datasets-bucket: does not block public access/,
            ]),
            bad(
                "a bucket policy granting everyone read",
                () =>
                    edit(dev, "aws-store-models-tls-only", (p) => {
                        const doc = JSON.parse(p.policy);
                        doc.Statement.push({
                            Effect: "Allow",
                            Principal: "*",
                            Action: "s3:GetObject",
                            Resource: "arn:aws:s3:::b/*",
                        });
                        p.policy = JSON.stringify(doc);
                    }),
                [/allows everyone/],
            ),
            bad("a public-read ACL", () => edit(dev, "aws-store-models-bucket", (p) => (p.acl = "public-read")), [
                /public ACL public-read/,
            ]),
            bad(
                "an Azure account allowing anonymous blob access",
                () => azureStore("dev", { allowBlobPublicAccess: true }),
                [/store-account: does not forbid anonymous blob access/],
            ),
            bad(
                "an Azure container open to anonymous reads",
                () => azureStore("dev", {}, {}, { publicAccess: "Blob" }),
                [/store-models: allows anonymous access/],
            ),
        ],
    },
    "storage-tls-only": {
        compliant: [
            ok("dev buckets", () => dev),
            ok("an HTTPS-only Azure account with TLS 1.2", () => azureStore("dev")),
        ],
        violating: [
            bad("a bucket without its TLS-only policy", () => without(dev, "aws-store-datasets-tls-only"), [
                /aws-store-datasets-bucket: accepts requests without TLS/,
            ]),
            bad(
                "a TLS policy covering objects only",
                () =>
                    edit(dev, "aws-store-models-tls-only", (p) => {
                        const doc = JSON.parse(p.policy);
                        doc.Statement[0].Resource = doc.Statement[0].Resource.filter((r: string) => r.endsWith("/*"));
                        p.policy = JSON.stringify(doc);
                    }),
                [/aws-store-models-bucket: accepts requests without TLS/],
            ),
            bad(
                "an Azure account accepting HTTP and TLS 1.0",
                () => azureStore("dev", { enableHttpsTrafficOnly: false, minimumTlsVersion: "TLS1_0" }),
                [/accepts plain HTTP/, /older than 1\.2/],
            ),
        ],
    },
    "cluster-secrets-encryption": {
        compliant: [
            ok("the prod EKS cluster, with its secrets key", () => prod),
            ok(
                "the dev EKS cluster: AWS managed keys, EKS's default envelope encryption outside production",
                () => dev,
            ),
            ok("an aws:eks/cluster:Cluster at 1.28 or later without a key, outside production", () => [
                res("dev", "aws:eks/cluster:Cluster", "eks", { name: "c", version: "1.28" }),
            ]),
            ok("an aws:eks/cluster:Cluster encrypting secrets", () => [
                res("dev", "aws:eks/cluster:Cluster", "eks", {
                    encryptionConfig: { provider: { keyArn: "arn:aws:kms:eu-west-1:1:key/k" }, resources: ["secrets"] },
                }),
            ]),
            ok("an AKS cluster with Key Vault KMS", () => aks("dev")),
            ok("the eks component as a real preview registers it (no inputs; its child is checked)", () => [
                res("dev", "eks:index:Cluster", "eks", {}),
            ]),
        ],
        violating: [
            bad(
                "the prod EKS cluster without its secrets key",
                () => edit(prod, "aws-eks", (p) => delete p.encryptionConfigKeyArn),
                [
                    /eks:index:Cluster aws-eks does not encrypt Kubernetes Secrets.*accepted outside production stacks only/,
                ],
            ),
            bad(
                "the dev EKS cluster with AWS managed keys, when the pack counts dev as production",
                () => dev,
                [/eks:index:Cluster aws-eks does not encrypt Kubernetes Secrets/],
                { "cluster-secrets-encryption": { productionStacks: ["dev"] } },
            ),
            bad(
                "an aws:eks/cluster:Cluster without encryptionConfig, of no known version",
                () => [res("dev", "aws:eks/cluster:Cluster", "eks", { name: "c" })],
                [/aws:eks\/cluster:Cluster eks/],
            ),
            bad(
                "an aws:eks/cluster:Cluster before 1.28 without encryptionConfig",
                () => [res("dev", "aws:eks/cluster:Cluster", "eks", { name: "c", version: "1.27" })],
                [/aws:eks\/cluster:Cluster eks/],
            ),
            bad(
                "an AKS cluster without Key Vault KMS",
                () => aks("dev", { securityProfile: { workloadIdentity: { enabled: true } } }),
                [/ManagedCluster aks does not encrypt/],
            ),
        ],
    },
    "cluster-audit-logging": {
        compliant: [
            ok("the dev EKS cluster (all five log types)", () => dev),
            ok("an AKS cluster with a kube-audit diagnostic setting", () => aks("dev")),
            ok("the eks component after deployment, judged by its aws:eks/cluster:Cluster", () => {
                const component = res("dev", "eks:index:Cluster", "eks", { kubeconfig: "{}" });
                return [
                    component,
                    res(
                        "dev",
                        "aws:eks/cluster:Cluster",
                        "eks-eksCluster",
                        { enabledClusterLogTypes: ["audit"] },
                        { parent: component.urn },
                    ),
                ];
            }),
        ],
        violating: [
            bad(
                "a stack file that keeps only the api log",
                async () =>
                    analyzedResources(
                        await planStack("dev", {
                            cluster: { ...stackConfig("dev", "cluster"), logTypes: ["api", "authenticator"] },
                        }),
                    ),
                [/aws-eks does not send the "audit" control-plane log/],
            ),
            bad("an AKS cluster without a diagnostic setting", () => aks("dev", {}, false), [
                /ManagedCluster aks has no diagnostic setting/,
            ]),
            bad(
                "an AKS diagnostic setting without audit logs",
                () =>
                    aks(
                        "dev",
                        {},
                        {
                            logs: [
                                { category: "kube-apiserver", enabled: true },
                                { category: "kube-audit", enabled: false },
                            ],
                        },
                    ),
                [/kube-audit/],
            ),
        ],
    },
    "cluster-endpoint-restricted-in-production": {
        compliant: [
            ok("prod (documentation CIDR)", () => prod),
            ok("dev open to 0.0.0.0/0 (not production)", () => dev),
            ok("a private AKS cluster in prod", () =>
                aks("prod", { apiServerAccessProfile: { enablePrivateCluster: true } }),
            ),
        ],
        violating: [
            bad(
                "a prod stack file opening the API to the internet",
                async () =>
                    analyzedResources(
                        await planStack("prod", {
                            cluster: { ...stackConfig("prod", "cluster"), publicAccessCidrs: ["0.0.0.0/0"] },
                        }),
                    ),
                [/aws-eks exposes the Kubernetes API to the whole internet in a production stack/],
            ),
            bad("dev, when the pack's config calls dev production", () => dev, [/aws-eks exposes/], {
                "cluster-endpoint-restricted-in-production": { productionStacks: ["dev"] },
            }),
            bad(
                "an AKS cluster in prod without authorized ranges",
                () => aks("prod", { apiServerAccessProfile: { enablePrivateCluster: false } }),
                [/ManagedCluster aks exposes/],
            ),
            bad(
                "an aws:eks/cluster:Cluster in prod with a public endpoint and default CIDRs",
                () => [res("prod", "aws:eks/cluster:Cluster", "eks", { vpcConfig: { endpointPublicAccess: true } })],
                [/exposes/],
            ),
        ],
    },
    "key-rotation": {
        compliant: [
            ok("the store, EKS Secrets and volumes keys of prod, all rotating", () => prod),
            ok("the Azure example stack's AKS Secrets key, with its rotation policy", azure),
            ok("an asymmetric KMS key, which AWS cannot rotate (not applicable)", () => [
                res("dev", "aws:kms/key:Key", "signing", { customerMasterKeySpec: "RSA_3072" }),
            ]),
        ],
        violating: [
            ...["aws-store-key", "aws-secrets-key", "aws-volumes-key"].map((key) =>
                bad(`${key} with rotation turned off`, () => edit(prod, key, (p) => (p.enableKeyRotation = false)), [
                    new RegExp(`aws:kms/key:Key ${key} does not rotate its key material \\(enableKeyRotation: false`),
                ]),
            ),
            bad(
                "a KMS key that never mentions rotation (AWS's default is off)",
                () => edit(prod, "aws-store-key", (p) => delete p.enableKeyRotation),
                [/aws-store-key does not rotate its key material \(enableKeyRotation: null/],
            ),
            bad(
                "the AKS Secrets key without its rotation policy",
                async () => edit(await azure(), "azure-cluster-kms-key", (p) => delete p.properties.rotationPolicy),
                [/azure-native:keyvault:Key azure-cluster-kms-key has no rotation policy that rotates it/],
            ),
            bad(
                "a Key Vault rotation policy that only notifies",
                async () =>
                    edit(await azure(), "azure-cluster-kms-key", (p) => {
                        p.properties.rotationPolicy.lifetimeActions[0].action.type = "notify";
                    }),
                [/azure-cluster-kms-key has no rotation policy that rotates it/],
            ),
            bad(
                "a rotate action without a trigger",
                async () =>
                    edit(await azure(), "azure-cluster-kms-key", (p) => {
                        p.properties.rotationPolicy.lifetimeActions[0].trigger = {};
                    }),
                [/azure-cluster-kms-key has no rotation policy that rotates it/],
            ),
        ],
    },
    "model-namespace-quota": {
        compliant: [ok("dev's model-version namespaces", () => dev)],
        violating: [
            bad("a namespace without its ResourceQuota", () => without(dev, "model-iris-v1-quota"), [
                /model-version namespace iris-v1: has no ResourceQuota/,
            ]),
            bad(
                "a quota that does not cap GPUs",
                () => edit(dev, "model-digits-v1-quota", (p) => delete p.spec.hard["requests.nvidia.com/gpu"]),
                [/digits-v1: its ResourceQuota does not cap requests\.nvidia\.com\/gpu/],
            ),
        ],
    },
    "model-namespace-limitrange": {
        compliant: [ok("dev's model-version namespaces", () => dev)],
        violating: [
            bad(
                "a LimitRange with a GPU default",
                () => edit(dev, "model-iris-v2-limits", (p) => (p.spec.limits[0].default["nvidia.com/gpu"] = "1")),
                [/iris-v2: LimitRange container-defaults sets default for nvidia\.com\/gpu/],
            ),
            bad(
                "a LimitRange with a GPU maximum",
                () => edit(dev, "model-iris-v2-limits", (p) => (p.spec.limits[0].max = { "nvidia.com/gpu": "2" })),
                [/sets max for nvidia\.com\/gpu/],
            ),
            bad("a namespace without a LimitRange", () => without(dev, "model-iris-v1-limits"), [
                /iris-v1: has no LimitRange/,
            ]),
        ],
    },
    "model-namespace-default-deny": {
        compliant: [ok("dev's model-version namespaces", () => dev)],
        violating: [
            bad("a namespace without its default-deny policy", () => without(dev, "model-digits-v1-default-deny"), [
                /digits-v1: has no default-deny ingress/,
                /digits-v1: has no default-deny egress/,
            ]),
            bad(
                "a default-deny for ingress only",
                () => edit(dev, "model-iris-v1-default-deny", (p) => (p.spec.policyTypes = ["Ingress"])),
                [/iris-v1: has no default-deny egress/],
            ),
            bad(
                "a 'default-deny' that selects only some pods",
                () =>
                    edit(
                        dev,
                        "model-iris-v1-default-deny",
                        (p) => (p.spec.podSelector = { matchLabels: { app: "x" } }),
                    ),
                [/iris-v1: has no default-deny ingress/],
            ),
        ],
    },
    "model-namespace-psa-restricted": {
        compliant: [ok("dev's model-version namespaces", () => dev)],
        violating: [
            bad(
                "a namespace enforcing baseline",
                () =>
                    edit(
                        dev,
                        "model-iris-v1-ns",
                        (p) => (p.metadata.labels["pod-security.kubernetes.io/enforce"] = "baseline"),
                    ),
                [/iris-v1: enforces Pod Security level baseline/],
            ),
        ],
    },
    "images-pinned": {
        compliant: [
            ok("dev (chart-default images and a tagged autoscaler)", () => dev),
            ok("tagged and digest-pinned containers and Tekton steps", () => [
                deployment("dev", "web", { image: "registry.example/app@sha256:" + "a".repeat(64) }),
                task("dev", [
                    { name: "train", image: "python:3.12-slim" },
                    { name: "push", ref: { name: "push-model" } },
                ]),
            ]),
        ],
        violating: [
            bad("an untagged container image", () => [deployment("dev", "web", { image: "nginx" })], [
                /apps\/web: Deployment spec\.template\.spec container main image "nginx" has no tag/,
            ]),
            bad(
                "a :latest image in a CronJob",
                () => [
                    res("dev", "kubernetes:batch/v1:CronJob", "nightly", {
                        metadata: { name: "nightly", namespace: "x" },
                        spec: {
                            jobTemplate: {
                                spec: {
                                    template: { spec: { containers: [{ name: "c", image: "ghcr.io/x/y:latest" }] } },
                                },
                            },
                        },
                    }),
                ],
                [/floating tag "latest"/],
            ),
            bad("a Tekton step without a tag", () => [task("dev", [{ name: "train", image: "python" }])], [
                /Task spec step train image "python" has no tag/,
            ]),
            bad(
                "a floating tag in Helm values",
                () => edit(dev, "aws-autoscaler-release", (p) => (p.values.image.tag = "latest")),
                [/values\.image\.tag uses the floating tag "latest"/],
            ),
            bad(
                "an init container on a moving tag",
                () => [
                    deployment(
                        "dev",
                        "web",
                        {},
                        {
                            initContainers: [
                                {
                                    name: "init",
                                    image: "busybox:stable",
                                    resources: { requests: { cpu: "1", memory: "1Mi" } },
                                },
                            ],
                        },
                    ),
                ],
                [/initContainer init image "busybox:stable"/],
            ),
        ],
    },
    "helm-charts-pinned": {
        compliant: [ok("dev's three releases", () => dev)],
        violating: [
            bad("a version range", () => edit(dev, "model-routing-envoy-gateway", (p) => (p.version = "^1.9")), [
                /model-routing-envoy-gateway: chart oci:\/\/docker\.io\/envoyproxy\/gateway-helm has no exact version/,
            ]),
            bad("no version", () => edit(dev, "aws-nvidia-release", (p) => delete p.version), [
                /aws-nvidia-release: chart nvidia-device-plugin has no exact version \(version null\)/,
            ]),
        ],
    },
    "no-privileged-containers": {
        compliant: [
            ok("dev", () => dev),
            ok("an allowlisted system DaemonSet", () => [
                deployment(
                    "dev",
                    "nvidia-device-plugin-daemonset",
                    { securityContext: { privileged: true } },
                    {},
                    "DaemonSet",
                    "kube-system",
                ),
            ]),
            ok("privileged values of an allowlisted chart", () => [
                helm("dev", "dcgm", "dcgm-exporter", { securityContext: { privileged: true } }),
            ]),
            ok(
                "a DaemonSet allowlisted by the pack's config",
                () => [deployment("dev", "agent", { securityContext: { privileged: true } }, {}, "DaemonSet", "ops")],
                { "no-privileged-containers": { privilegedDaemonSets: ["ops/agent"] } },
            ),
        ],
        violating: [
            bad(
                "a privileged Deployment",
                () => [deployment("dev", "web", { securityContext: { privileged: true } })],
                [/apps\/web: Deployment .* is privileged \(privileged: true\)/],
            ),
            bad(
                "a DaemonSet outside the allowlist",
                () => [
                    deployment("dev", "agent", { securityContext: { privileged: true } }, {}, "DaemonSet", "default"),
                ],
                [/default\/agent: DaemonSet/],
            ),
            bad(
                "SYS_ADMIN in a Tekton step",
                () => [
                    task("dev", [
                        {
                            name: "build",
                            image: "gcr.io/kaniko-project/executor:v1.23.2",
                            securityContext: { capabilities: { add: ["SYS_ADMIN"] } },
                        },
                    ]),
                ],
                [/step build is privileged \(capabilities\.add SYS_ADMIN\)/],
            ),
            bad(
                "privileged values of another chart",
                () =>
                    edit(
                        dev,
                        "model-routing-envoy-gateway",
                        (p) => (p.values.deployment.pod.securityContext = { privileged: true }),
                    ),
                [/values\.deployment\.pod\.securityContext\.privileged makes a container of chart .* privileged/],
            ),
        ],
    },
    "pod-resource-requests": {
        compliant: [
            ok("a Deployment with requests", () => [deployment("dev", "web", {})]),
            ok("Tekton steps taking requests from the stepTemplate", () => [
                task(
                    "dev",
                    [
                        { name: "a", image: "x:1" },
                        { name: "b", image: "y:1" },
                    ],
                    { stepTemplate: { computeResources: { requests: { cpu: "500m", memory: "1Gi" } } } },
                ),
            ]),
        ],
        violating: [
            bad(
                "a container without requests",
                () => [deployment("dev", "web", { resources: { limits: { memory: "1Gi" } } })],
                [/container main has no cpu or memory request/],
            ),
            bad(
                "a Job whose container requests memory only",
                () => [
                    res("dev", "kubernetes:batch/v1:Job", "once", {
                        metadata: { name: "once", namespace: "x" },
                        spec: {
                            template: {
                                spec: {
                                    containers: [
                                        { name: "c", image: "x:1", resources: { requests: { memory: "1Gi" } } },
                                    ],
                                },
                            },
                        },
                    }),
                ],
                [/container c has no cpu request/],
            ),
            bad(
                "a Tekton step without requests",
                () => [
                    task("dev", [
                        { name: "train", image: "python:3.12", computeResources: { limits: { memory: "2Gi" } } },
                    ]),
                ],
                [/step train has no cpu or memory request/],
            ),
            bad(
                "a sidecar without requests",
                () => [
                    task(
                        "dev",
                        [{ name: "a", image: "x:1", computeResources: { requests: { cpu: "1", memory: "1Gi" } } }],
                        { sidecars: [{ name: "docker", image: "docker:27-dind" }] },
                    ),
                ],
                [/sidecar docker has no cpu or memory request/],
            ),
        ],
    },
    "gpu-workloads-tolerate-gpu-taint": {
        compliant: [
            ok("dev (the device plugin tolerates the taint)", () => dev),
            ok("a GPU Deployment tolerating the taint", () => [
                deployment(
                    "dev",
                    "serve",
                    { resources: { requests: { cpu: "1", memory: "1Gi" }, limits: { "nvidia.com/gpu": 1 } } },
                    { tolerations: [gpuToleration] },
                ),
            ]),
            ok("a GPU Tekton Task (the run's pod template places it)", () => [
                task("dev", [{ name: "train", image: "x:1", computeResources: { limits: { "nvidia.com/gpu": 1 } } }]),
            ]),
            ok("a PipelineRun whose pod template tolerates the taint", () => [
                res("dev", "kubernetes:tekton.dev/v1:PipelineRun", "run", {
                    metadata: { name: "run", namespace: "pipelines" },
                    spec: {
                        taskRunTemplate: {
                            podTemplate: {
                                tolerations: [
                                    { key: "nvidia.com/gpu", operator: "Equal", value: "true", effect: "NoSchedule" },
                                ],
                            },
                        },
                        pipelineSpec: {
                            tasks: [
                                {
                                    name: "train",
                                    taskSpec: {
                                        steps: [
                                            {
                                                name: "s",
                                                image: "x:1",
                                                computeResources: { limits: { "nvidia.com/gpu": 1 } },
                                            },
                                        ],
                                    },
                                },
                            ],
                        },
                    },
                }),
            ]),
        ],
        violating: [
            bad(
                "a GPU Deployment without the toleration",
                () => [
                    deployment("dev", "serve", {
                        resources: { requests: { cpu: "1", memory: "1Gi" }, limits: { "nvidia.com/gpu": 1 } },
                    }),
                ],
                [/apps\/serve: Deployment spec\.template\.spec requests nvidia\.com\/gpu but does not tolerate/],
            ),
            bad(
                "a pod selecting GPU nodes without the toleration",
                () => [
                    deployment(
                        "dev",
                        "exporter",
                        {},
                        { nodeSelector: { "nvidia.com/gpu.present": "true" } },
                        "DaemonSet",
                    ),
                ],
                [/selects GPU nodes/],
            ),
            bad(
                "the device plugin values without tolerations",
                () => edit(dev, "aws-nvidia-release", (p) => (p.values.tolerations = [])),
                [/aws-nvidia-release: values places pods on GPU nodes without tolerating/],
            ),
            bad(
                "a TriggerTemplate's PipelineRun with a GPU task and no pod template",
                () => [
                    res("dev", "kubernetes:triggers.tekton.dev/v1beta1:TriggerTemplate", "retrain", {
                        metadata: { name: "retrain", namespace: "pipelines" },
                        spec: {
                            resourcetemplates: [
                                {
                                    apiVersion: "tekton.dev/v1",
                                    kind: "PipelineRun",
                                    metadata: { generateName: "retrain-" },
                                    spec: {
                                        pipelineSpec: {
                                            tasks: [
                                                {
                                                    name: "train",
                                                    taskSpec: {
                                                        steps: [
                                                            {
                                                                name: "s",
                                                                image: "x:1",
                                                                computeResources: { limits: { "nvidia.com/gpu": 1 } },
                                                            },
                                                        ],
                                                    },
                                                },
                                            ],
                                        },
                                    },
                                },
                            ],
                        },
                    }),
                ],
                [/spec\.resourcetemplates\[0\]\.spec\.pipelineSpec\.tasks\[0\]\.taskSpec requests nvidia\.com\/gpu/],
            ),
        ],
    },
    "pods-meet-namespace-pod-security": {
        compliant: [
            ok("dev: the run pruner and the dataset consumer in pipelines (baseline)", () => dev),
            ok("a restricted pod in a namespace enforcing restricted", () => [
                podSecurityNamespace("models", "restricted"),
                deployment("dev", "server", RESTRICTED_CONTAINER, RESTRICTED_POD, "Deployment", "models"),
            ]),
            ok("a privileged pod in a namespace the stack does not label", () => [
                deployment("dev", "agent", { securityContext: { privileged: true } }, {}, "DaemonSet", "kube-system"),
            ]),
        ],
        violating: [
            bad(
                "a container that may escalate privileges, in a namespace enforcing restricted",
                () => [
                    podSecurityNamespace("models", "restricted"),
                    deployment(
                        "dev",
                        "server",
                        {
                            securityContext: {
                                ...RESTRICTED_CONTAINER.securityContext,
                                allowPrivilegeEscalation: true,
                            },
                        },
                        RESTRICTED_POD,
                        "Deployment",
                        "models",
                    ),
                ],
                [
                    /Deployment models\/server: spec\.template\.spec breaks Pod Security restricted, which its namespace enforces: allowPrivilegeEscalation: container "main" must set allowPrivilegeEscalation: false\./,
                ],
            ),
            bad(
                "the dev dataset consumer moved onto the host network (pipelines enforces baseline)",
                () => edit(dev, "triggers-dataset-events-deployment", (p) => (p.spec.template.spec.hostNetwork = true)),
                [
                    /Deployment pipelines\/dataset-events: .* breaks Pod Security baseline.*hostNamespaces: hostNetwork: true/,
                ],
            ),
            bad(
                "the run pruner's container made privileged",
                () =>
                    dev.map((r) => {
                        if (r.type !== "kubernetes:batch/v1:CronJob" || r.name !== "tekton-pruner") return r;
                        const props = structuredClone(r.props);
                        props.spec.jobTemplate.spec.template.spec.containers[0].securityContext.privileged = true;
                        return { ...r, props };
                    }),
                [
                    /CronJob pipelines\/run-pruner: spec\.jobTemplate\.spec\.template\.spec breaks Pod Security baseline.*privileged: container "prune" set privileged: true/,
                ],
            ),
        ],
    },
    "production-stateful-protected": {
        compliant: [
            ok("prod (protected stores)", () => prod),
            ok("dev (disposable stores, not production)", () => dev),
        ],
        violating: [
            bad(
                "a prod stack file with disposable stores",
                async () =>
                    analyzedResources(
                        await planStack("prod", {
                            artifactStores: { protection: "disposable", noncurrentVersionDays: 90 },
                        }),
                    ),
                [
                    /aws:s3\/bucket:Bucket aws-store-models-bucket holds data in a production stack but is not protected/,
                    /aws-store-datasets-bucket holds data/,
                    /aws:ecr\/repository:Repository aws-registry-repo holds data/,
                    /aws:kms\/key:Key aws-store-key encrypts a store/,
                ],
            ),
            bad("an unprotected Azure store in prod", () => azureStore("prod"), [
                /StorageAccount store-account holds data/,
                /BlobContainer store-models holds data/,
            ]),
        ],
    },
    "no-plaintext-secrets": {
        compliant: [
            ok("dev (secret outputs declared, no credentials in values)", () => dev),
            ok("a chart reading its password from an existing Secret", () => [
                helm("dev", "grafana", "grafana", {
                    admin: { existingSecret: "grafana-admin", userKey: "admin-user", passwordKey: "admin-password" },
                }),
            ]),
            ok("credentials from secretKeyRef", () => [
                deployment("dev", "web", {
                    env: [
                        {
                            name: "AWS_SECRET_ACCESS_KEY",
                            valueFrom: { secretKeyRef: { name: "store", key: "secret" } },
                        },
                        { name: "MODEL_URI", value: "s3://models/iris/v1/" },
                    ],
                }),
            ]),
            ok("a ConfigMap of settings", () => [
                res("dev", "kubernetes:core/v1:ConfigMap", "settings", {
                    metadata: { name: "settings", namespace: "x" },
                    data: { "token-ttl-seconds": "3600", "secret-name": "store", "server.json": '{"port": 8080}' },
                }),
            ]),
        ],
        violating: [
            bad(
                "a password in a ConfigMap",
                () => [
                    res("dev", "kubernetes:core/v1:ConfigMap", "db", {
                        metadata: { name: "db", namespace: "x" },
                        data: { DB_PASSWORD: "hunter2hunter2" },
                    }),
                ],
                [/x\/db: data\.DB_PASSWORD "DB_PASSWORD" names a credential/],
            ),
            bad(
                "a private key inside a ConfigMap file",
                () => [
                    res("dev", "kubernetes:core/v1:ConfigMap", "tls", {
                        metadata: { name: "tls", namespace: "x" },
                        data: { "setup.sh": "cat <<EOF\n-----BEGIN RSA PRIVATE KEY-----\nMIIE\n" },
                    }),
                ],
                [/holds what looks like a private key/],
            ),
            bad("a password in Helm values", () => [helm("dev", "grafana", "grafana", { adminPassword: "[secret]" })], [
                /values\.adminPassword "adminPassword" names a credential/,
            ]),
            bad(
                "a URL with a password in Helm values",
                () =>
                    edit(
                        dev,
                        "aws-autoscaler-release",
                        (p) => (p.values.extraArgs["status-url"] = "https://admin:s3cr3tpass@status.example/"),
                    ),
                [/looks like a URL with a password/],
            ),
            bad(
                "a literal secret environment variable",
                () => [
                    deployment("dev", "web", {
                        env: [{ name: "AWS_SECRET_ACCESS_KEY", value: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" }],
                    }),
                ],
                [/AWS_SECRET_ACCESS_KEY is a credential given as a literal value/],
            ),
            bad(
                "an undeclared credential output",
                () => edit(dev, "mlops-testbed-dev", (p) => (p.registryToken = "abc")),
                [/stack outputs: outputs\.registryToken names a credential/],
            ),
            bad(
                "an output holding an access key id",
                () => edit(dev, "mlops-testbed-dev", (p) => (p.clusterName = "AKIAIOSFODNN7EXAMPLE")),
                [/outputs\.clusterName holds what looks like an AWS access key id/],
            ),
        ],
    },
};

describe("policy pack: a violating and a compliant case per policy", () => {
    before(async () => {
        dev = analyzedResources(await planStack("dev"));
        prod = analyzedResources(await planStack("prod"));
    });

    it("has cases for every policy, and only for policies of the pack", () => {
        assert.deepEqual(Object.keys(CASES).sort(), POLICIES.map((p) => p.name).sort());
        for (const [name, c] of Object.entries(CASES))
            assert.ok(c.compliant.length > 0 && c.violating.length > 0, name);
    });

    for (const policy of POLICIES) {
        const cases = CASES[policy.name] ?? { compliant: [], violating: [] };
        describe(policy.name, () => {
            for (const c of cases.compliant) {
                it(`passes: ${c.title}`, async () => {
                    const run = await runPolicies(await c.resources(), [policy], c.config);
                    assert.deepEqual(run.violations, [], formatViolations(run.violations));
                });
            }
            for (const c of cases.violating) {
                it(`catches: ${c.title}`, async () => {
                    const run = await runPolicies(await c.resources(), [policy], c.config);
                    assert.ok(run.violations.length > 0, "no violation");
                    assert.ok(run.violations.every((v) => v.policy === policy.name && v.urn !== ""));
                    for (const re of c.expect)
                        assert.ok(
                            run.violations.some((v) => re.test(v.message)),
                            `expected ${re}; got:\n${formatViolations(run.violations)}`,
                        );
                });
            }
        });
    }

    it("a disabled policy reports nothing", async () => {
        const resources = without(dev, "aws-store-models-versioning");
        const run = await runPolicies(resources, POLICIES, { "storage-versioned": { enforcementLevel: "disabled" } });
        assert.deepEqual(run.violations, []);
    });

    it("the eks component without inputs is declared not applicable, not passed silently", async () => {
        const run = await runPolicies([res("dev", "eks:index:Cluster", "eks", {})], POLICIES);
        assert.deepEqual(run.notApplicable.map((n) => n.policy).sort(), [
            "cluster-endpoint-restricted-in-production",
            "cluster-secrets-encryption",
        ]);
    });

    it("a KMS key AWS cannot rotate (asymmetric) is declared not applicable to key-rotation, with the reason", async () => {
        const run = await runPolicies(
            [res("dev", "aws:kms/key:Key", "signing", { customerMasterKeySpec: "ECC_NIST_P256" })],
            POLICIES,
        );
        assert.deepEqual(
            run.notApplicable.map((n) => [n.policy, n.reason]),
            [["key-rotation", "KMS rotates only SYMMETRIC_DEFAULT keys automatically; this one is ECC_NIST_P256"]],
        );
    });
});

describe("policy pack: helpers", () => {
    it("tells pinned images from moving ones", () => {
        for (const image of [
            "nginx:1.27.3",
            "registry.example:5000/team/app:v2",
            `app@sha256:${"0".repeat(64)}`,
            "nvcr.io/nvidia/k8s-device-plugin:v0.17.0",
        ]) {
            assert.equal(unpinnedReason(image), undefined, image);
        }
        for (const image of [
            "nginx",
            "registry.example:5000/team/app",
            "nginx:latest",
            "x:MAIN",
            "app@sha256:abc",
            "",
            3,
        ]) {
            assert.ok(unpinnedReason(image), String(image));
        }
    });

    it("tells exact chart versions from ranges", () => {
        for (const v of ["0.20.0", "v1.9.3", "9.52.1", "1.0.0-rc.1"]) assert.ok(isExactChartVersion(v), v);
        for (const v of ["^1.9", "~1.2.3", "1.x", ">=1.0.0", "", undefined, "latest"])
            assert.ok(!isExactChartVersion(v), String(v));
    });

    it("tells credential keys from references to them", () => {
        for (const k of [
            "password",
            "adminPassword",
            "DB_PASSWORD",
            "apiKey",
            "api-key",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_ACCESS_KEY_ID",
            "secretKey",
            "clientSecret",
            "token",
            "gitWebhookSecret",
            "privateKey",
            "credentials",
        ]) {
            assert.ok(isCredentialKey(k), k);
        }
        for (const k of [
            "existingSecret",
            "passwordKey",
            "userKey",
            "secretName",
            "tokenFile",
            "secretRef",
            "passwordLength",
            "token-ttl-seconds",
            "kubeconfig",
            "modelsBucket",
            "secret-name",
        ]) {
            assert.ok(!isCredentialKey(k), k);
        }
    });

    it("recognises secret-looking values and leaves ordinary ones", () => {
        assert.equal(secretLookingValue("AKIAIOSFODNN7EXAMPLE"), "an AWS access key id");
        assert.equal(secretLookingValue("postgres://app:pa55word@db:5432/x"), "a URL with a password");
        assert.equal(secretLookingValue("ghp_" + "a".repeat(36)), "a GitHub token");
        assert.equal(
            secretLookingValue("DefaultEndpointsProtocol=https;AccountName=x;AccountKey=" + "A".repeat(40) + "=="),
            "a storage account key",
        );
        assert.equal(secretLookingValue("export PASSWORD=correcthorse"), "an assignment of a password or token");
        assert.equal(secretLookingValue('db_password = "hunter2hunter2"'), "an assignment of a password or token");
        for (const v of [
            "[secret]",
            "[computed]",
            "https://status.example/",
            "password=$(cat /var/run/secrets/pw)",
            "token: {{ .Values.token }}",
            "s3://models/iris/v1/",
            "arn:aws:iam::123456789012:role/x",
            'token = page.get("NextContinuationToken")',
            'password = os.environ["DB_PASSWORD"]',
            "token = None",
        ]) {
            assert.equal(secretLookingValue(v), undefined, v);
        }
    });

    it("reads pod specs of every workload kind and Tekton object", () => {
        const container = { name: "c", image: "x:1" };
        const spec = { containers: [container] };
        const kinds: [string, Record<string, Json>, string][] = [
            ["kubernetes:core/v1:Pod", { spec }, "spec"],
            ["kubernetes:apps/v1:StatefulSet", { spec: { template: { spec } } }, "spec.template.spec"],
            ["kubernetes:apps/v1:ReplicaSet", { spec: { template: { spec } } }, "spec.template.spec"],
            ["kubernetes:core/v1:ReplicationController", { spec: { template: { spec } } }, "spec.template.spec"],
            ["kubernetes:core/v1:PodTemplate", { template: { spec } }, "template.spec"],
            ["kubernetes:tekton.dev/v1beta1:ClusterTask", { spec: { steps: [container] } }, "spec"],
            [
                "kubernetes:tekton.dev/v1:Pipeline",
                {
                    spec: {
                        tasks: [{ name: "t", taskSpec: { steps: [container] } }],
                        finally: [{ name: "f", taskSpec: { steps: [container] } }],
                    },
                },
                "spec.tasks[0].taskSpec",
            ],
            ["kubernetes:tekton.dev/v1:TaskRun", { spec: { taskSpec: { steps: [container] } } }, "spec.taskSpec"],
        ];
        for (const [type, props, where] of kinds) {
            const views = podSpecsOf(type, props);
            assert.ok(views.length > 0 && views[0].where === where && views[0].containers[0].image === "x:1", type);
        }
        assert.equal(podSpecsOf("kubernetes:tekton.dev/v1:Pipeline", kinds[6][1]).length, 2);
        assert.deepEqual(podSpecsOf("kubernetes:core/v1:Service", { spec: {} }), []);
        assert.deepEqual(podSpecsOf("aws:s3/bucket:Bucket", {}), []);
    });
});
