import * as authorization from "@pulumi/azure-native/authorization";
import * as containerservice from "@pulumi/azure-native/containerservice";
import * as monitor from "@pulumi/azure-native/monitor";
import * as keyvault from "@pulumi/azure-native/keyvault";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import * as operationalinsights from "@pulumi/azure-native/operationalinsights";
import type * as azureInputs from "@pulumi/azure-native/types/input";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { SYSTEM_NODE_LABELS } from "../../contract/scheduling";
import { aksKubeconfig } from "./kubeconfig";
import { roleDefinitionId } from "./roles";
import { AKS_SYSTEM_POOL_NAME } from "./vm-sizes";

/** Pod and service ranges of the overlay network; outside any VNet range the config accepts is not checked. */
export const AKS_POD_CIDR = "192.168.0.0/16";
export const AKS_SERVICE_CIDR = "172.16.0.0/16";
export const AKS_DNS_SERVICE_IP = "172.16.0.10";

/**
 * Key Vault makes a new version of the Secrets key every 90 days. New versions get no expiry: the cluster encrypts
 * with the version its `keyId` names (AKS's KMS takes a versioned key id), which a `pulumi refresh` then `pulumi up`
 * moves to the newest; an expired version would stop the cluster writing Secrets if that step were late.
 */
export const AKS_KMS_KEY_ROTATION = {
    lifetimeActions: [{ action: { type: "rotate" }, trigger: { timeAfterCreate: "P90D" } }],
} satisfies azureInputs.keyvault.RotationPolicyArgs;

export interface AksClusterArgs {
    readonly resourceGroupName: pulumi.Input<string>;
    readonly location: string;
    readonly clusterName: string;
    readonly kubernetesVersion: string;
    readonly vnetId: pulumi.Input<string>;
    readonly nodesSubnetId: pulumi.Input<string>;
    readonly availabilityZones: string[];
    readonly endpointAccess: "private" | "public-and-private" | "public";
    readonly publicAccessCidrs: string[];
    readonly system: { vmSize: string; minSize: number; maxSize: number; desiredSize: number; diskSizeGiB: number };
    readonly scaleDownUnneededMinutes: number;
    /** Subscription of the deployment and the object id of whoever runs `pulumi up`. */
    readonly subscriptionId: pulumi.Input<string>;
    readonly deployerObjectId: pulumi.Input<string>;
    /** Entra tenant of the Key Vault holding the Secrets encryption key. */
    readonly tenantId: pulumi.Input<string>;
    /** Control-plane log types (`cluster.logTypes`), sent to a Log Analytics workspace. */
    readonly logTypes: readonly string[];
    /** Further Entra principals granted cluster admin. */
    readonly adminPrincipalIds: string[];
    readonly tags: Record<string, string>;
}

/** API server access: a private cluster, or a public endpoint limited to the given ranges (none for 0.0.0.0/0). */
export function apiServerAccess(
    access: AksClusterArgs["endpointAccess"],
    cidrs: readonly string[],
): containerservice.ManagedClusterArgs["apiServerAccessProfile"] {
    if (access === "private") return { enablePrivateCluster: true };
    const ranges = cidrs.filter((c) => c !== "0.0.0.0/0");
    return { enablePrivateCluster: false, ...(ranges.length > 0 ? { authorizedIPRanges: ranges } : {}) };
}

/** AKS diagnostic log categories for the control-plane log types of the config (the same names as on EKS). */
export const AKS_LOG_CATEGORIES: Readonly<Record<string, string>> = {
    api: "kube-apiserver",
    audit: "kube-audit",
    authenticator: "guard",
    controllerManager: "kube-controller-manager",
    scheduler: "kube-scheduler",
};

/** Days the control-plane logs are kept in the Log Analytics workspace. */
export const AKS_LOG_RETENTION_DAYS = 30;

/**
 * AKS: a pinned Kubernetes version, Entra ID with Azure RBAC and local accounts disabled (no static admin
 * credentials exist), OIDC issuer and workload identity, Azure CNI Overlay with Cilium network policy, and an
 * autoscaling CPU system pool. The control plane runs as a user-assigned identity that may manage the VNet;
 * whoever deploys, and the configured admins, get "Azure Kubernetes Service RBAC Cluster Admin". Kubernetes
 * Secrets are envelope-encrypted with a key in the cluster's own Key Vault (KMS, RBAC-authorized, purge-protected,
 * usable only by the control-plane identity), and the control-plane logs of `cluster.logTypes` (audit included by
 * default) go to a Log Analytics workspace.
 */
export class AksCluster extends pulumi.ComponentResource {
    readonly cluster: containerservice.ManagedCluster;
    readonly clusterId: pulumi.Output<string>;
    readonly oidcIssuer: pulumi.Output<string>;
    /** Object id of the kubelet identity (pulls images from ACR). */
    readonly kubeletObjectId: pulumi.Output<string>;
    /** Entra kubeconfig (kubelogin, `azurecli` login), secret. */
    readonly kubeconfig: pulumi.Output<string>;
    /** Cluster-admin role assignments; Kubernetes resources must wait for them. */
    readonly adminAssignments: authorization.RoleAssignment[];

    constructor(name: string, args: AksClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlops-testbed:azure:AksCluster", name, {}, opts);
        const parent = { parent: this };
        const controlPlane = new managedidentity.UserAssignedIdentity(
            `${name}-identity`,
            {
                resourceGroupName: args.resourceGroupName,
                location: args.location,
                tags: args.tags,
            },
            parent,
        );
        const vnetAccess = new authorization.RoleAssignment(
            `${name}-network-contributor`,
            {
                scope: args.vnetId,
                roleDefinitionId: pulumi
                    .output(args.subscriptionId)
                    .apply((s) => roleDefinitionId(s, "networkContributor")),
                principalId: controlPlane.principalId,
                principalType: "ServicePrincipal",
                description: `AKS control plane of ${args.clusterName} manages load balancers in its virtual network`,
            },
            parent,
        );

        // Secrets encryption (KMS): a vault of the cluster's own, its key, and the control plane allowed to use it.
        const vaultSuffix = new random.RandomString(
            `${name}-kms-suffix`,
            { length: 6, special: false, upper: false },
            parent,
        );
        const vault = new keyvault.Vault(
            `${name}-kms-vault`,
            {
                resourceGroupName: args.resourceGroupName,
                location: args.location,
                vaultName: vaultSuffix.result.apply(
                    (sfx) => `kv-${args.clusterName.replace(/[^A-Za-z0-9-]/g, "").slice(0, 14)}-${sfx}`,
                ),
                properties: {
                    tenantId: args.tenantId,
                    sku: { family: "A", name: "standard" },
                    enableRbacAuthorization: true,
                    enableSoftDelete: true,
                    softDeleteRetentionInDays: 90,
                    enablePurgeProtection: true,
                },
                tags: args.tags,
            },
            parent,
        );
        const secretsKey = new keyvault.Key(
            `${name}-kms-key`,
            {
                resourceGroupName: args.resourceGroupName,
                vaultName: vault.name,
                keyName: "kubernetes-secrets",
                properties: {
                    kty: "RSA",
                    keySize: 2048,
                    keyOps: ["encrypt", "decrypt", "wrapKey", "unwrapKey"],
                    rotationPolicy: AKS_KMS_KEY_ROTATION,
                },
            },
            parent,
        );
        const kmsAccess = new authorization.RoleAssignment(
            `${name}-kms-crypto-user`,
            {
                scope: vault.id,
                roleDefinitionId: pulumi
                    .output(args.subscriptionId)
                    .apply((sub) => roleDefinitionId(sub, "keyVaultCryptoUser")),
                principalId: controlPlane.principalId,
                principalType: "ServicePrincipal",
                description: `AKS control plane of ${args.clusterName} encrypts Kubernetes Secrets with the vault's key`,
            },
            parent,
        );

        const s = args.system;
        this.cluster = new containerservice.ManagedCluster(
            `${name}-aks`,
            {
                resourceGroupName: args.resourceGroupName,
                resourceName: args.clusterName,
                location: args.location,
                dnsPrefix: args.clusterName,
                kubernetesVersion: args.kubernetesVersion,
                identity: { type: "UserAssigned", userAssignedIdentities: [controlPlane.id] },
                enableRBAC: true,
                aadProfile: { managed: true, enableAzureRBAC: true },
                disableLocalAccounts: true,
                oidcIssuerProfile: { enabled: true },
                securityProfile: {
                    workloadIdentity: { enabled: true },
                    imageCleaner: { enabled: true, intervalHours: 48 },
                    azureKeyVaultKms: {
                        enabled: true,
                        keyId: secretsKey.keyUriWithVersion,
                        keyVaultNetworkAccess: "Public",
                    },
                },
                networkProfile: {
                    networkPlugin: "azure",
                    networkPluginMode: "overlay",
                    networkDataplane: "cilium",
                    networkPolicy: "cilium",
                    podCidr: AKS_POD_CIDR,
                    serviceCidr: AKS_SERVICE_CIDR,
                    dnsServiceIP: AKS_DNS_SERVICE_IP,
                    loadBalancerSku: "standard",
                    outboundType: "loadBalancer",
                },
                apiServerAccessProfile: apiServerAccess(args.endpointAccess, args.publicAccessCidrs),
                agentPoolProfiles: [
                    {
                        name: AKS_SYSTEM_POOL_NAME,
                        mode: "System",
                        type: "VirtualMachineScaleSets",
                        osType: "Linux",
                        osSKU: "AzureLinux",
                        vmSize: s.vmSize,
                        osDiskSizeGB: s.diskSizeGiB,
                        vnetSubnetID: args.nodesSubnetId,
                        availabilityZones: args.availabilityZones,
                        enableAutoScaling: true,
                        minCount: s.minSize,
                        maxCount: s.maxSize,
                        count: s.desiredSize,
                        nodeLabels: { ...SYSTEM_NODE_LABELS },
                        orchestratorVersion: args.kubernetesVersion,
                    },
                ],
                autoScalerProfile: {
                    scaleDownUnneededTime: `${args.scaleDownUnneededMinutes}m`,
                    scaleDownDelayAfterAdd: "5m",
                    expander: "least-waste",
                    balanceSimilarNodeGroups: "true",
                    skipNodesWithSystemPods: "false",
                },
                autoUpgradeProfile: { upgradeChannel: "patch", nodeOSUpgradeChannel: "NodeImage" },
                tags: args.tags,
            },
            { parent: this, dependsOn: [vnetAccess, kmsAccess], ignoreChanges: ["agentPoolProfiles[0].count"] },
        );

        const categories = args.logTypes.map((t) => AKS_LOG_CATEGORIES[t]).filter((c): c is string => c !== undefined);
        if (categories.length > 0) {
            const workspace = new operationalinsights.Workspace(
                `${name}-logs`,
                {
                    resourceGroupName: args.resourceGroupName,
                    location: args.location,
                    workspaceName: `${args.clusterName}-logs`,
                    sku: { name: "PerGB2018" },
                    retentionInDays: AKS_LOG_RETENTION_DAYS,
                    tags: args.tags,
                },
                parent,
            );
            new monitor.DiagnosticSetting(
                `${name}-control-plane-logs`,
                {
                    name: "control-plane-logs",
                    resourceUri: this.cluster.id,
                    workspaceId: workspace.id,
                    logs: categories.map((category) => ({ category, enabled: true })),
                },
                parent,
            );
        }

        this.clusterId = this.cluster.id;
        this.oidcIssuer = this.cluster.oidcIssuerProfile.apply((p) => p?.issuerURL ?? "");
        this.kubeletObjectId = this.cluster.identityProfile.apply((p) => p?.["kubeletidentity"]?.objectId ?? "");
        const credentials = containerservice.listManagedClusterUserCredentialsOutput(
            {
                resourceGroupName: args.resourceGroupName,
                resourceName: this.cluster.name,
                format: "exec",
            },
            parent,
        );
        this.kubeconfig = pulumi.secret(credentials.kubeconfigs.apply((k) => aksKubeconfig(k[0].value)));

        const admins = [pulumi.output(args.deployerObjectId), ...args.adminPrincipalIds.map((id) => pulumi.output(id))];
        this.adminAssignments = admins.map(
            (principalId, i) =>
                new authorization.RoleAssignment(
                    `${name}-admin-${i}`,
                    {
                        scope: this.cluster.id,
                        roleDefinitionId: pulumi
                            .output(args.subscriptionId)
                            .apply((sub) => roleDefinitionId(sub, "aksRbacClusterAdmin")),
                        principalId,
                        description:
                            i === 0
                                ? "Whoever runs pulumi up administers the cluster it builds"
                                : "Cluster admin from azure.adminPrincipalIds",
                    },
                    parent,
                ),
        );
        this.registerOutputs({ clusterId: this.clusterId, oidcIssuer: this.oidcIssuer });
    }
}
