import * as assert from "node:assert/strict";
import { AZURE_ROLES } from "./roles";
import { blobGrantCondition } from "./workload-identity";
import { aksKubeconfig } from "./kubeconfig";
import type { WorkloadIdentityBinding } from "../../contract/platform";
import { loadStack } from "../../tools/stack";
import { findResource, planConfigIssues, planStack, resourcesOfType } from "../../test/harness";
import { planPlatform, valueOf } from "../../test/platform-harness";
import type { Json } from "../../test/json";

const STACK = "azure-example";
const AGENT_POOL = "azure-native:containerservice:AgentPool";
const ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment";

describe("Azure platform (AKS)", function () {
    let plan: Awaited<ReturnType<typeof planStack>>;
    before(async () => {
        plan = await planStack(STACK);
    });

    it("creates AKS pinned to the configured version with Entra ID, Azure RBAC, no local accounts, OIDC and workload identity", () => {
        const aks = findResource(plan, "azure-native:containerservice:ManagedCluster", "azure-cluster-aks");
        const i = aks.inputs as Json;
        assert.equal(i.kubernetesVersion, "1.34");
        assert.equal(i.disableLocalAccounts, true);
        assert.deepEqual(i.aadProfile, { managed: true, enableAzureRBAC: true });
        assert.equal(i.oidcIssuerProfile.enabled, true);
        assert.equal(i.securityProfile.workloadIdentity.enabled, true);
        assert.equal(i.networkProfile.networkPolicy, "cilium");
        const [system] = i.agentPoolProfiles;
        assert.equal(system.mode, "System");
        assert.equal(system.vmSize, "Standard_D4s_v5");
        assert.equal(system.enableAutoScaling, true);
        assert.deepEqual([system.minCount, system.maxCount], [2, 3]);
        assert.equal(i.autoScalerProfile.scaleDownUnneededTime, "10m");
    });

    it("encrypts Kubernetes Secrets with a key in the cluster's own vault, usable only by the control plane", () => {
        const i = findResource(plan, "azure-native:containerservice:ManagedCluster", "azure-cluster-aks")
            .inputs as Json;
        const vault = findResource(plan, "azure-native:keyvault:Vault", "azure-cluster-kms-vault").inputs as Json;
        const key = findResource(plan, "azure-native:keyvault:Key", "azure-cluster-kms-key").inputs as Json;
        assert.deepEqual(i.securityProfile.azureKeyVaultKms, {
            enabled: true,
            keyId: `https://${vault.vaultName}.vault.azure.net/keys/${key.keyName}/EXAMPLE0123456789`,
            keyVaultNetworkAccess: "Public",
        });
        assert.match(vault.vaultName, /^kv-[a-z0-9-]{1,14}-[a-z0-9]{6}$/);
        assert.ok(vault.vaultName.length <= 24);
        assert.deepEqual(
            [vault.properties.enableRbacAuthorization, vault.properties.enablePurgeProtection],
            [true, true],
        );
        const use = findResource(plan, ROLE_ASSIGNMENT, "azure-cluster-kms-crypto-user");
        assert.match(String(use.inputs.roleDefinitionId), new RegExp(`${AZURE_ROLES.keyVaultCryptoUser}$`));
        assert.match(String(use.inputs.scope), /vaults\//);
        const aks = findResource(plan, "azure-native:containerservice:ManagedCluster", "azure-cluster-aks");
        assert.ok(aks.dependsOn.includes(use.urn), "the role exists before the cluster turns KMS on");
    });

    it("the Secrets key rotates: a new version every 90 days by its Key Vault rotation policy, the only vault key", () => {
        const keys = resourcesOfType(plan, "azure-native:keyvault:Key");
        assert.deepEqual(
            keys.map((k) => k.name),
            ["azure-cluster-kms-key"],
        );
        assert.deepEqual((keys[0].inputs as Json).properties.rotationPolicy, {
            lifetimeActions: [{ action: { type: "rotate" }, trigger: { timeAfterCreate: "P90D" } }],
        });
    });

    it("sends the control-plane logs of cluster.logTypes, audit included, to a Log Analytics workspace", async () => {
        const setting = resourcesOfType(plan, "azure-native:monitor:DiagnosticSetting")[0]?.inputs as Json;
        assert.deepEqual(
            setting?.logs.map((l: Json) => l.category),
            ["kube-apiserver", "kube-audit", "guard", "kube-controller-manager", "kube-scheduler"],
        );
        assert.match(setting.resourceUri, /managedClusters\/mlops-testbed-azure-example$/);
        assert.match(setting.workspaceId, /workspaces\/mlops-testbed-azure-example-logs$/);
        const cluster = JSON.parse(String(loadStack(STACK).config["mlops-testbed:cluster"]));
        const none = await planStack(STACK, { cluster: { ...cluster, logTypes: [] } });
        assert.equal(resourcesOfType(none, "azure-native:monitor:DiagnosticSetting").length, 0);
    });

    it("makes whoever deploys a cluster admin through Azure RBAC", () => {
        const admin = findResource(plan, ROLE_ASSIGNMENT, "azure-cluster-admin-0");
        assert.match(String(admin.inputs.roleDefinitionId), new RegExp(`${AZURE_ROLES.aksRbacClusterAdmin}$`));
        assert.match(String(admin.inputs.scope), /managedClusters\/mlops-testbed-azure-example$/);
    });

    it("GPU pools: GPU taint and labels, autoscaling from 0, the configured driver setting", () => {
        const pools = resourcesOfType(plan, AGENT_POOL);
        assert.equal(pools.length, 2);
        for (const p of pools) {
            const i = p.inputs as Json;
            assert.ok(i.nodeTaints.includes("nvidia.com/gpu=true:NoSchedule"), `${p.name} taint`);
            assert.equal(i.nodeLabels["nvidia.com/gpu.present"], "true");
            assert.equal(i.mode, "User");
            assert.equal(i.enableAutoScaling, true);
            assert.equal(i.minCount, 0);
            assert.deepEqual(i.gpuProfile, { driver: "Install" });
        }
    });

    it("the autoscaler owns every pool's size: the system pool's and each GPU pool's count (and only it) are ignored after creation", () => {
        const aks = findResource(plan, "azure-native:containerservice:ManagedCluster", "azure-cluster-aks");
        assert.deepEqual(aks.ignoreChanges, ["agentPoolProfiles[0].count"]);
        assert.equal((aks.inputs as Json).agentPoolProfiles[0].mode, "System", "profile 0 is the system pool");
        const pools = resourcesOfType(plan, AGENT_POOL);
        assert.equal(pools.length, 2);
        for (const p of pools) assert.deepEqual(p.ignoreChanges, ["count"], p.name);
    });

    it("spot pools pay at most on-demand and delete evicted nodes; on-demand pools are Regular", () => {
        const spot = findResource(plan, AGENT_POOL, "azure-gpu-t4-pool").inputs as Json;
        assert.equal(spot.agentPoolName, "t4");
        assert.equal(spot.vmSize, "Standard_NC4as_T4_v3");
        assert.equal(spot.scaleSetPriority, "Spot");
        assert.equal(spot.scaleSetEvictionPolicy, "Delete");
        assert.equal(spot.spotMaxPrice, -1);
        assert.ok(spot.nodeTaints.includes("kubernetes.azure.com/scalesetpriority=spot:NoSchedule"));
        const regular = findResource(plan, AGENT_POOL, "azure-gpu-a100-pool").inputs as Json;
        assert.equal(regular.scaleSetPriority, "Regular");
        assert.equal(regular.scaleSetEvictionPolicy, undefined);
        assert.equal(regular.spotMaxPrice, undefined);
        assert.deepEqual(regular.nodeTaints, ["nvidia.com/gpu=true:NoSchedule"]);
    });

    it("installs the NVIDIA device plugin when AKS installs the driver, and not with gpuDriver None", async () => {
        assert.equal(resourcesOfType(plan, "mlops-testbed:gpu:NvidiaDevicePlugin").length, 1);
        const none = await planStack(STACK, { azure: { location: "westeurope", gpuDriver: "None" } });
        assert.equal(resourcesOfType(none, "mlops-testbed:gpu:NvidiaDevicePlugin").length, 0);
        for (const p of resourcesOfType(none, AGENT_POOL))
            assert.deepEqual((p.inputs as Json).gpuProfile, { driver: "None" });
    });

    it("storage account: StorageV2, HTTPS only, TLS 1.2, no public blob access, no shared keys", () => {
        const account = resourcesOfType(plan, "azure-native:storage:StorageAccount");
        assert.equal(account.length, 1);
        const i = account[0].inputs as Json;
        assert.equal(i.kind, "StorageV2");
        assert.equal(i.enableHttpsTrafficOnly, true);
        assert.equal(i.minimumTlsVersion, "TLS1_2");
        assert.equal(i.allowBlobPublicAccess, false);
        assert.equal(i.allowSharedKeyAccess, false);
        assert.match(i.accountName, /^[a-z0-9]{3,24}$/);
    });

    it("blob versioning and soft delete; lifecycle expires old versions; private models and datasets containers", () => {
        const svc = findResource(plan, "azure-native:storage:BlobServiceProperties", "azure-store-blob-service")
            .inputs as Json;
        assert.equal(svc.isVersioningEnabled, true);
        assert.deepEqual(svc.deleteRetentionPolicy, { enabled: true, days: 7 });
        assert.deepEqual(svc.containerDeleteRetentionPolicy, { enabled: true, days: 7 });
        const policy = findResource(plan, "azure-native:storage:ManagementPolicy", "azure-store-lifecycle")
            .inputs as Json;
        assert.equal(policy.policy.rules[0].definition.actions.version.delete.daysAfterCreationGreaterThan, 7);
        // The store's containers (the dataset events' dead-letter container is checked in pipelines/install/triggers.spec.ts).
        const containers = resourcesOfType(plan, "azure-native:storage:BlobContainer")
            .filter((c) => c.name.startsWith("azure-store-"))
            .map((c) => c.inputs as Json);
        assert.deepEqual(containers.map((c) => c.containerName).sort(), ["datasets", "models"]);
        for (const c of containers) assert.equal(c.publicAccess, "None");
    });

    it("stores and registry are disposable in the example and protected and retained when protection is protected", async () => {
        const stateful = (p: typeof plan) =>
            p.resources.filter(
                (r) =>
                    [
                        "azure-native:storage:StorageAccount",
                        "azure-native:storage:BlobContainer",
                        "azure-native:containerregistry:Registry",
                    ].includes(r.type) && !r.name.startsWith("azure-dataset-events-"),
            );
        for (const r of stateful(plan)) assert.equal(r.protect, false, r.name);
        const prod = await planStack(STACK, { artifactStores: { protection: "protected", noncurrentVersionDays: 90 } });
        const found = stateful(prod);
        assert.equal(found.length, 4);
        for (const r of found) {
            assert.equal(r.protect, true, r.name);
            assert.equal(r.retainOnDelete, true, r.name);
        }
        const account = resourcesOfType(prod, "azure-native:storage:StorageAccount")[0].inputs as Json;
        assert.equal(account.sku.name, "Standard_ZRS");
    });

    it("ACR: no admin user, no anonymous pull, untagged retention; the kubelet identity may pull", () => {
        const acr = resourcesOfType(plan, "azure-native:containerregistry:Registry")[0].inputs as Json;
        assert.equal(acr.adminUserEnabled, false);
        assert.equal(acr.anonymousPullEnabled, false);
        assert.deepEqual(acr.policies.retentionPolicy, { status: "enabled", days: 3 });
        const pull = findResource(plan, ROLE_ASSIGNMENT, "azure-registry-kubelet-pull").inputs as Json;
        assert.match(pull.roleDefinitionId, new RegExp(`${AZURE_ROLES.acrPull}$`));
    });

    it("outputs: region is the location, OIDC issuer and registry are known after deploy, kubeconfig is secret", () => {
        assert.equal(plan.outputs.region, "westeurope");
        assert.equal(plan.outputs.kubeconfig, "[secret]");
        assert.equal(plan.outputs.oidcIssuer, "[computed]");
        assert.deepEqual(plan.outputs.artifactStore, {
            kind: "azure-blob",
            modelsBucket: "models",
            datasetsBucket: "datasets",
            region: "westeurope",
            endpoint: "[computed]",
        });
        const provider = resourcesOfType(plan, "pulumi:providers:kubernetes")[0];
        assert.deepEqual(provider.secretInputs, ["kubeconfig"]);
    });

    it("the kubeconfig logs in non-interactively with the Azure CLI identity (kubelogin)", () => {
        const raw = Buffer.from(
            "users:\n- name: u\n  user:\n    exec:\n      command: kubelogin\n      args: [get-token, --login, devicecode]\n",
        ).toString("base64");
        assert.match(aksKubeconfig(raw), /- get-token\n\s+- --login\n\s+- azurecli/);
    });
});

describe("Azure workload identity", function () {
    let plan: Awaited<ReturnType<typeof planStack>>;
    let reader: WorkloadIdentityBinding;
    before(async () => {
        ({ plan } = await planPlatform(STACK, {}, (platform) => {
            reader = platform.bindWorkloadIdentity("iris-v1-server", {
                namespace: "iris-v1",
                serviceAccount: "model-server",
                grants: [{ store: "models", prefix: "iris/v1/", access: "read" }],
            });
            platform.bindWorkloadIdentity("trainer", {
                namespace: "pipelines",
                serviceAccount: "trainer",
                grants: [
                    { store: "datasets", prefix: "", access: "read" },
                    { store: "models", prefix: "iris/", access: "write" },
                ],
                registryPush: true,
            });
        }));
    });

    it("each federated credential pins exactly system:serviceaccount:<ns>:<sa> from the cluster's issuer", () => {
        const creds = resourcesOfType(plan, "azure-native:managedidentity:FederatedIdentityCredential").map(
            (c) => c.inputs as Json,
        );
        assert.deepEqual(creds.map((c) => c.subject).sort(), [
            "system:serviceaccount:iris-v1:model-server",
            "system:serviceaccount:pipelines:trainer",
        ]);
        for (const c of creds) {
            assert.deepEqual(c.audiences, ["api://AzureADTokenExchange"]);
            assert.match(c.issuer, /^https:\/\/westeurope\.oic\.prod-aks\.azure\.com\//);
        }
    });

    it("role assignments are scoped to the granted container, with the role the access needs and a prefix condition", () => {
        const grant = findResource(plan, ROLE_ASSIGNMENT, "azure-iris-v1-server-grant-0").inputs as Json;
        assert.match(grant.scope, /\/blobServices\/default\/containers\/models$/);
        assert.match(grant.roleDefinitionId, new RegExp(`${AZURE_ROLES.storageBlobDataReader}$`));
        assert.equal(grant.conditionVersion, "2.0");
        assert.ok(
            grant.condition.includes(
                "@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path] StringStartsWith 'iris/v1/'",
            ),
        );
        assert.ok(
            grant.condition.includes(
                "@Request[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:prefix] StringStartsWith 'iris/v1/'",
            ),
        );

        const datasets = findResource(plan, ROLE_ASSIGNMENT, "azure-trainer-grant-0").inputs as Json;
        assert.match(datasets.scope, /\/containers\/datasets$/);
        assert.equal(datasets.condition, undefined, "a whole-container read needs no condition");
        const write = findResource(plan, ROLE_ASSIGNMENT, "azure-trainer-grant-1").inputs as Json;
        assert.match(write.roleDefinitionId, new RegExp(`${AZURE_ROLES.storageBlobDataContributor}$`));
        assert.ok(
            write.condition.includes(
                "!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete'})",
            ),
        );
        const push = findResource(plan, ROLE_ASSIGNMENT, "azure-trainer-registry-push").inputs as Json;
        assert.match(push.roleDefinitionId, new RegExp(`${AZURE_ROLES.acrPush}$`));
        assert.match(push.scope, /registries\//);
        assert.equal(
            resourcesOfType(plan, ROLE_ASSIGNMENT).filter((r) => r.name.startsWith("azure-iris-v1-server")).length,
            1,
            "no registry push unless asked",
        );
    });

    it("the binding gives the client-id annotation and the workload identity pod label", async () => {
        assert.deepEqual(reader.podLabels, { "azure.workload.identity/use": "true" });
        const annotations = await valueOf(reader.serviceAccountAnnotations);
        assert.deepEqual(Object.keys(annotations), ["azure.workload.identity/client-id"]);
        assert.match(annotations["azure.workload.identity/client-id"], /^[0-9a-f-]{36}$/);
    });

    it("conditions: write never reads objects back; prefixes are checked", () => {
        const write = blobGrantCondition({ store: "models", prefix: "a/", access: "write" })!;
        assert.ok(
            write.includes(
                "!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'} AND NOT SubOperationMatches{'Blob.List'})",
            ),
        );
        assert.equal(blobGrantCondition({ store: "models", prefix: "", access: "read" }), undefined);
        assert.throws(
            () => blobGrantCondition({ store: "models", prefix: "a", access: "read" }),
            /must be "" or end with "\/"/,
        );
        assert.throws(() => blobGrantCondition({ store: "models", prefix: "a'/", access: "read" }));
    });
});

describe("Azure configuration", function () {
    it("refuses what AKS cannot build, naming each key", async () => {
        const issues = await planConfigIssues(STACK, {
            gpuNodePools: [
                {
                    name: "mixed",
                    instanceTypes: ["Standard_NC4as_T4_v3", "Standard_NC8as_T4_v3"],
                    capacityType: "spot",
                    minSize: 0,
                    maxSize: 1,
                },
                { name: "cpu", instanceTypes: ["Standard_D4s_v5"], capacityType: "on-demand", minSize: 0, maxSize: 1 },
                {
                    name: "a-very-long-pool-name",
                    instanceTypes: ["g5.xlarge"],
                    capacityType: "on-demand",
                    minSize: 0,
                    maxSize: 1,
                },
            ],
            cluster: { systemNodes: { instanceTypes: ["m6i.large"] } },
        });
        const byKey = new Map(issues.map((i) => [i.key, i.message]));
        assert.match(byKey.get("mlops-testbed:gpuNodePools[0].instanceTypes")!, /one VM size/);
        assert.match(byKey.get("mlops-testbed:gpuNodePools[1].instanceTypes[0]")!, /not an NVIDIA GPU VM size/);
        assert.match(byKey.get("mlops-testbed:gpuNodePools[2].instanceTypes[0]")!, /not an NVIDIA GPU VM size/);
        assert.match(byKey.get("mlops-testbed:gpuNodePools[2].name")!, /1-12 lowercase letters and digits/);
        assert.match(byKey.get("mlops-testbed:cluster.systemNodes.instanceTypes[0]")!, /Azure VM size/);
    });

    it("needs the azure section and a valid location", async () => {
        const missing = await planConfigIssues(STACK, { azure: undefined });
        assert.deepEqual(
            missing.map((i) => i.key),
            ["mlops-testbed:azure"],
        );
        const bad = await planConfigIssues(STACK, { azure: { location: "West Europe" } });
        assert.equal(bad[0].key, "mlops-testbed:azure.location");
    });

    it("reports Azure rules alongside schema problems, in one pass", async () => {
        const issues = await planConfigIssues(STACK, {
            network: { availabilityZones: 9 },
            gpuNodePools: [{ name: "t4", instanceTypes: ["g5.xlarge"], capacityType: "spot", minSize: 0, maxSize: 1 }],
        });
        assert.deepEqual(issues.map((i) => i.key).sort(), [
            "mlops-testbed:gpuNodePools[0].instanceTypes[0]",
            "mlops-testbed:network.availabilityZones",
        ]);
    });

    it("needs an Azure VM size for the system pool: the default is an EC2 type", async () => {
        const issues = await planConfigIssues(STACK, { cluster: { kubernetesVersion: "1.34" } });
        assert.deepEqual(
            issues.map((i) => i.key),
            ["mlops-testbed:cluster.systemNodes.instanceTypes"],
        );
        assert.match(issues[0].message, /required when cloud is azure.*Standard_D4s_v5/);
    });

    it("refuses AWS admin role ARNs on Azure", async () => {
        const issues = await planConfigIssues(STACK, {
            cluster: {
                systemNodes: { instanceTypes: ["Standard_D4s_v5"] },
                adminRoleArns: ["arn:aws:iam::123456789012:role/ci"],
            },
        });
        assert.match(
            issues.find((i) => i.key === "mlops-testbed:cluster.adminRoleArns")!.message,
            /azure.adminPrincipalIds/,
        );
    });
});
