import { getClientConfigOutput } from "@pulumi/azure-native/authorization";
import * as azure from "@pulumi/azure-native/provider";
import * as resources from "@pulumi/azure-native/resources";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { AzurePlatformConfig } from "../../contract/config/platform";
import { NvidiaDevicePlugin } from "../gpu/nvidia-device-plugin";
import {
    K8S_PROVIDER_SETTINGS,
    ALL_ADDONS_INSTALLED,
    type ArtifactStore,
    type DatasetChangeConsumer,
    type GpuNodePoolSummary,
    type GpuScheduling,
    type ImageRegistry,
    type Platform,
    type Scheduling,
    type WorkloadIdentityArgs,
    type WorkloadIdentityBinding,
} from "../../contract/platform";
import { GPU_TAINT, SYSTEM_NODE_LABELS } from "../../contract/scheduling";
import { AzureArtifactStore } from "./artifact-store";
import { AzureDatasetEvents, eventGridConsumer } from "./dataset-events";
import { AksCluster } from "./cluster";
import { AKS_SPOT_TAINT, AksGpuNodePool } from "./gpu-node-pool";
import { AzureNetwork } from "./network";
import { AzureImageRegistry } from "./registry";
import { AzureWorkloadIdentity, WORKLOAD_IDENTITY_USE_LABEL } from "./workload-identity";

export interface AzurePlatformArgs {
    /** The stack's validated config as far as the Azure platform reads it. */
    readonly config: AzurePlatformConfig;
    /** AKS cluster name; also names the resource group and prefixes the storage account and registry. */
    readonly clusterName: string;
    /** Tags put on every Azure resource that takes tags. */
    readonly tags: Record<string, string>;
}

/** Where GPU pods go on AKS: the GPU taint, plus the Spot taint AKS puts on Spot pools when there are any. */
export function azureGpuScheduling(hasSpotPools: boolean): GpuScheduling {
    return {
        resourceName: "nvidia.com/gpu",
        nodeLabel: { key: "nvidia.com/gpu.present", value: "true" },
        nodeSelector: { "nvidia.com/gpu.present": "true" },
        tolerations: [
            { key: GPU_TAINT.key, operator: "Exists", effect: GPU_TAINT.effect },
            ...(hasSpotPools
                ? [
                      {
                          key: AKS_SPOT_TAINT.key,
                          operator: "Equal",
                          value: AKS_SPOT_TAINT.value,
                          effect: AKS_SPOT_TAINT.effect,
                      },
                  ]
                : []),
        ],
    };
}

/** AKS's built-in CSI class for Azure Disks (the cluster's default too; named so every claim says which). */
export const AZURE_STORAGE_CLASS = "managed-csi";

/**
 * The Azure platform: resource group, VNet, AKS with system and GPU node pools, a storage account with the
 * `models` and `datasets` containers, ACR, workload identity, and the datasets container's BlobCreated events
 * (Event Grid into a Storage Queue) for the dataset-change trigger.
 *
 * GPU enablement: AKS installs the NVIDIA driver on GPU nodes (`gpuProfile.driver: Install`, the default of
 * `azure.gpuDriver`) but not the device plugin, so the testbed installs the same NVIDIA device plugin as on
 * AWS. With `gpuDriver: None` it installs neither; the NVIDIA GPU Operator you bring provides both.
 */
export class AzurePlatform extends pulumi.ComponentResource implements Platform {
    readonly datasetChanges: DatasetChangeConsumer;
    readonly cloud = "azure" as const;
    readonly region: string;
    readonly clusterName: pulumi.Output<string>;
    readonly kubeconfig: pulumi.Output<string>;
    readonly oidcIssuer: pulumi.Output<string>;
    readonly k8sProvider: k8s.Provider;
    readonly gpuScheduling: GpuScheduling;
    readonly systemScheduling: Scheduling;
    readonly artifactStore: ArtifactStore;
    readonly imageRegistry: ImageRegistry;
    readonly storageClass = AZURE_STORAGE_CLASS;
    /** AKS runs metrics-server itself. */
    readonly metricsServer = { install: false } as const;
    readonly gpuNodePools: readonly GpuNodePoolSummary[];
    readonly clusterReady: pulumi.Resource[];
    /** A new cluster has none of the add-ons: the cluster layer installs them all. */
    readonly addons = ALL_ADDONS_INSTALLED;

    private readonly resourceGroupName: pulumi.Output<string>;
    private readonly subscriptionId: pulumi.Output<string>;
    private readonly store: AzureArtifactStore;
    private readonly registry: AzureImageRegistry;
    private readonly datasetEvents: AzureDatasetEvents;
    private readonly tags: Record<string, string>;
    private readonly platformName: string;

    constructor(name: string, args: AzurePlatformArgs, opts?: pulumi.ComponentResourceOptions) {
        const { config } = args;
        const location = config.azure.location;
        const azureProvider = new azure.Provider(
            `${name}-azure`,
            { location },
            opts?.parent ? { parent: opts.parent } : {},
        );
        super("mlops-testbed:azure:Platform", name, {}, { ...opts, providers: [azureProvider] });
        this.platformName = name;
        this.region = location;
        this.tags = args.tags;
        const parent = { parent: this };
        const client = getClientConfigOutput(parent);
        this.subscriptionId = client.subscriptionId;

        const group = new resources.ResourceGroup(
            `${name}-rg`,
            {
                resourceGroupName: `rg-${args.clusterName}`,
                location,
                tags: args.tags,
            },
            parent,
        );
        this.resourceGroupName = group.name;
        const zones = Array.from({ length: config.network.availabilityZones }, (_, i) => String(i + 1));

        const network = new AzureNetwork(
            `${name}-network`,
            {
                resourceGroupName: group.name,
                location,
                cidr: config.network.cidr,
                tags: args.tags,
            },
            parent,
        );

        const system = config.cluster.systemNodes;
        const aks = new AksCluster(
            `${name}-cluster`,
            {
                resourceGroupName: group.name,
                location,
                clusterName: args.clusterName,
                kubernetesVersion: config.cluster.kubernetesVersion,
                vnetId: network.vnetId,
                nodesSubnetId: network.nodesSubnetId,
                availabilityZones: zones,
                endpointAccess: config.cluster.endpointAccess,
                publicAccessCidrs: config.cluster.publicAccessCidrs,
                system: {
                    vmSize: system.instanceTypes[0],
                    minSize: system.minSize,
                    maxSize: system.maxSize,
                    desiredSize: system.desiredSize,
                    diskSizeGiB: system.diskSizeGiB,
                },
                scaleDownUnneededMinutes: config.cluster.scaleDownUnneededMinutes,
                subscriptionId: client.subscriptionId,
                deployerObjectId: client.objectId,
                tenantId: client.tenantId,
                logTypes: config.cluster.logTypes,
                adminPrincipalIds: config.azure.adminPrincipalIds,
                tags: args.tags,
            },
            parent,
        );
        this.clusterName = aks.cluster.name;
        this.kubeconfig = aks.kubeconfig;
        this.oidcIssuer = aks.oidcIssuer;
        this.k8sProvider = new k8s.Provider(
            `${name}-k8s`,
            { kubeconfig: this.kubeconfig, ...K8S_PROVIDER_SETTINGS },
            { parent: this, dependsOn: aks.adminAssignments },
        );

        for (const pool of config.gpuNodePools) {
            new AksGpuNodePool(
                `${name}-gpu-${pool.name}`,
                {
                    resourceGroupName: group.name,
                    clusterName: aks.cluster.name,
                    poolName: pool.name,
                    vmSize: pool.instanceTypes[0],
                    capacityType: pool.capacityType,
                    minSize: pool.minSize,
                    maxSize: pool.maxSize,
                    diskSizeGiB: pool.diskSizeGiB,
                    labels: pool.labels,
                    kubernetesVersion: config.cluster.kubernetesVersion,
                    subnetId: network.nodesSubnetId,
                    availabilityZones: zones,
                    gpuDriver: config.azure.gpuDriver,
                    tags: args.tags,
                },
                parent,
            );
        }
        this.gpuNodePools = config.gpuNodePools.map(
            ({ name: poolName, instanceTypes, capacityType, minSize, maxSize }) => ({
                name: poolName,
                instanceTypes,
                capacityType,
                minSize,
                maxSize,
            }),
        );
        this.gpuScheduling = azureGpuScheduling(config.gpuNodePools.some((p) => p.capacityType === "spot"));
        this.systemScheduling = { nodeSelector: { ...SYSTEM_NODE_LABELS }, tolerations: [] };

        // The system pool is part of the cluster resource, and the admin role assignments let `pulumi up` use the
        // API: that is all the cluster layer waits for. GPU pools scale from zero and the device plugin is a
        // DaemonSet on GPU nodes only (ready with none), so neither is waited for.
        this.clusterReady = [aks.cluster, ...aks.adminAssignments];
        if (config.azure.gpuDriver === "Install") {
            new NvidiaDevicePlugin(
                `${name}-nvidia`,
                { gpuScheduling: this.gpuScheduling, namespace: "kube-system" },
                {
                    parent: this,
                    providers: [this.k8sProvider],
                    dependsOn: this.clusterReady,
                },
            );
        }

        const prefix = args.clusterName.replace(/[^a-z0-9]/g, "");
        this.store = new AzureArtifactStore(
            `${name}-store`,
            {
                resourceGroupName: group.name,
                location,
                namePrefix: `st${prefix}`.slice(0, 18),
                protection: config.artifactStores.protection,
                noncurrentVersionDays: config.artifactStores.noncurrentVersionDays,
                tags: args.tags,
            },
            parent,
        );
        this.artifactStore = {
            kind: "azure-blob",
            modelsBucket: this.store.containers.models.name,
            datasetsBucket: this.store.containers.datasets.name,
            region: location,
            endpoint: this.store.blobEndpoint,
            egress: { kind: "public", port: 443 },
        };
        this.datasetEvents = new AzureDatasetEvents(
            `${name}-dataset-events`,
            {
                resourceGroupName: group.name,
                location,
                accountName: this.store.accountName,
                accountId: this.store.accountId,
                container: this.store.containers.datasets.name,
                subscriptionId: client.subscriptionId,
                tags: args.tags,
                protection: config.artifactStores.protection,
            },
            parent,
        );
        this.datasetChanges = eventGridConsumer(this.datasetEvents.queueUrl, this.store.containers.datasets.name);
        this.registry = new AzureImageRegistry(
            `${name}-registry`,
            {
                resourceGroupName: group.name,
                location,
                namePrefix: `acr${prefix}`,
                repository: "model-server",
                protection: config.artifactStores.protection,
                untaggedDays: config.registry.untaggedDays,
                kubeletObjectId: aks.kubeletObjectId,
                subscriptionId: client.subscriptionId,
                tags: args.tags,
            },
            parent,
        );
        this.imageRegistry = { repositoryUrl: this.registry.repositoryUrl, tls: "verify", login: "acr" };

        this.registerOutputs({ clusterName: this.clusterName, oidcIssuer: this.oidcIssuer });
    }

    bindWorkloadIdentity(
        name: string,
        args: WorkloadIdentityArgs,
        opts?: pulumi.ComponentResourceOptions,
    ): WorkloadIdentityBinding {
        // Parented to the platform (the cloud owns the identity), so named after it.
        const identity = new AzureWorkloadIdentity(
            `${this.platformName}-${name}`,
            {
                resourceGroupName: this.resourceGroupName,
                location: this.region,
                namespace: args.namespace,
                serviceAccount: args.serviceAccount,
                oidcIssuer: this.oidcIssuer,
                subscriptionId: this.subscriptionId,
                grants: args.grants.map((g) => ({ ...g, containerId: this.store.containers[g.store].id })),
                pushRegistryId: args.registryPush ? this.registry.registryId : undefined,
                consumeQueueId: args.consumeDatasetChanges ? this.datasetEvents.queueId : undefined,
                tags: this.tags,
            },
            { parent: this, ...opts },
        );
        return {
            serviceAccountAnnotations: identity.serviceAccountAnnotations,
            podLabels: { [WORKLOAD_IDENTITY_USE_LABEL]: "true" },
            identity: identity.clientId,
        };
    }
}
