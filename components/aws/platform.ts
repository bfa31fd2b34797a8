import * as aws from "@pulumi/aws/provider";
import * as eksApi from "@pulumi/aws/eks";
import * as kms from "@pulumi/aws/kms";
import * as eks from "@pulumi/eks";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { AwsPlatformConfig } from "../../contract/config/platform";
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
    type StoreName,
    type WorkloadIdentityArgs,
    type WorkloadIdentityBinding,
} from "../../contract/platform";
import { AwsArtifactStore } from "./artifact-store";
import { AwsDatasetEvents, consumerStatements, sqsConsumer } from "./dataset-events";
import { ClusterAutoscaler, SYSTEM_CAPACITY_LABEL, SYSTEM_FALLBACK_PART } from "./cluster-autoscaler";
import { ecrPushStatements, s3GrantStatements } from "./iam-policy";
import { AwsNetwork } from "./network";
import { systemAmiType } from "./instance-types";
import {
    GPU_NODE_LABELS,
    GPU_TAINT,
    ManagedNodeGroup,
    SYSTEM_NODE_LABELS,
    createNodeRole,
    gpuAmiType,
} from "./node-groups";
import { AwsImageRegistry } from "./registry";
import { IrsaRole } from "./workload-identity";
import { EKS_ADDONS } from "../../contract/versions";

/** Sizes of a system node group. */
type SystemGroupSizes = { readonly minSize: number; readonly maxSize: number; readonly desiredSize: number };

export interface AwsPlatformArgs {
    /** The stack's validated config as far as the AWS platform reads it. */
    readonly config: AwsPlatformConfig;
    /** EKS cluster name; also names the registry repository. */
    readonly clusterName: string;
    /** Tags put on every AWS resource through the provider's default tags. */
    readonly tags: Record<string, string>;
}

/** Where GPU pods go on EKS: the GPU node label, tolerating the GPU taint. */
export function awsGpuScheduling(): GpuScheduling {
    return {
        resourceName: "nvidia.com/gpu",
        nodeLabel: { key: "nvidia.com/gpu.present", value: "true" },
        nodeSelector: { "nvidia.com/gpu.present": "true" },
        tolerations: [{ key: GPU_TAINT.key, operator: "Exists", effect: GPU_TAINT.effect }],
    };
}

/**
 * The default StorageClass the AWS platform creates: gp3, encrypted with the stack's volumes key (EBS CSI driver),
 * or with aws/ebs when the stack uses AWS managed keys.
 */
export const AWS_STORAGE_CLASS = "gp3-encrypted";

/** The EBS CSI driver's controller service account (fixed by the EKS add-on), which its IRSA role trusts. */
export const EBS_CSI_SERVICE_ACCOUNT = { namespace: "kube-system", name: "ebs-csi-controller-sa" } as const;

/**
 * AWS managed policy of the EBS CSI driver. Used rather than a hand-written copy: AWS keeps it in step with what
 * each driver release calls, and it is already narrow where it matters (it may create volumes and snapshots only
 * with the driver's request tags, and delete only volumes and snapshots the driver tagged as its own).
 */
export const EBS_CSI_MANAGED_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy";

/**
 * What the EBS CSI driver needs besides the managed policy: use of the stack's volumes key (the managed policy
 * covers AWS managed keys only), grants only for AWS resources (EBS attaches volumes through a grant).
 */
export function ebsCsiKmsStatements(keyArn: string) {
    return [
        {
            Effect: "Allow" as const,
            Action: ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
            Resource: [keyArn],
            Condition: { Bool: { "kms:GrantIsForAWSResource": "true" } },
        },
        {
            Effect: "Allow" as const,
            Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
            Resource: [keyArn],
        },
    ];
}

/** EKS access-entry policy that grants cluster-admin. */
const CLUSTER_ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";

/** The AWS platform: VPC, EKS with system and GPU node groups, S3 artifact stores, ECR and IRSA. */
export class AwsPlatform extends pulumi.ComponentResource implements Platform {
    readonly cloud = "aws" as const;
    readonly region: string;
    readonly clusterName: pulumi.Output<string>;
    readonly kubeconfig: pulumi.Output<string>;
    readonly oidcIssuer: pulumi.Output<string>;
    readonly k8sProvider: k8s.Provider;
    readonly gpuScheduling: GpuScheduling;
    readonly systemScheduling: Scheduling;
    readonly artifactStore: ArtifactStore;
    readonly imageRegistry: ImageRegistry;
    readonly datasetChanges: DatasetChangeConsumer;
    readonly gpuNodePools: readonly GpuNodePoolSummary[];
    readonly storageClass = AWS_STORAGE_CLASS;
    /** EKS ships no metrics-server. */
    readonly metricsServer = { install: true, kubeletInsecureTls: false } as const;
    readonly clusterReady: pulumi.Resource[];
    /** A new cluster has none of the add-ons: the cluster layer installs them all. */
    readonly addons = ALL_ADDONS_INSTALLED;

    private readonly oidcProviderArn: pulumi.Output<string>;
    private readonly store: AwsArtifactStore;
    private readonly registry: AwsImageRegistry;
    private readonly datasetEvents: AwsDatasetEvents;
    private readonly platformName: string;

    constructor(name: string, args: AwsPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
        const { config } = args;
        const awsProvider = new aws.Provider(
            `${name}-aws`,
            { region: config.aws.region as aws.ProviderArgs["region"], defaultTags: { tags: args.tags } },
            opts?.parent ? { parent: opts.parent } : {},
        );
        super("mlops-testbed:aws:Platform", name, {}, { ...opts, providers: [awsProvider] });
        this.region = config.aws.region;
        this.platformName = name;
        const parent = { parent: this };

        const network = new AwsNetwork(
            `${name}-network`,
            {
                cidr: config.network.cidr,
                availabilityZones: config.network.availabilityZones,
                natGateways: config.network.natGateways,
                nat: config.network.nat,
                clusterName: args.clusterName,
                tags: {},
            },
            parent,
        );

        // With AWS managed keys no key of the stack's own: EKS envelope-encrypts all Kubernetes API data by default
        // (Kubernetes 1.28 and later) with an AWS owned key, EBS uses aws/ebs and S3 aws/s3.
        const ownKeys = config.aws.encryptionKeys === "customer-managed";
        const secretsKey = ownKeys
            ? new kms.Key(
                  `${name}-secrets-key`,
                  {
                      description: `Envelope encryption of Kubernetes secrets in ${args.clusterName}`,
                      enableKeyRotation: true,
                      deletionWindowInDays: 30,
                  },
                  parent,
              )
            : undefined;

        const access = config.cluster.endpointAccess;
        const cluster = new eks.Cluster(
            `${name}-eks`,
            {
                name: args.clusterName,
                version: config.cluster.kubernetesVersion,
                vpcId: network.vpcId,
                publicSubnetIds: network.publicSubnetIds,
                privateSubnetIds: network.privateSubnetIds,
                endpointPrivateAccess: access !== "public",
                endpointPublicAccess: access !== "private",
                publicAccessCidrs: access === "private" ? undefined : config.cluster.publicAccessCidrs,
                authenticationMode: eks.AuthenticationMode.Api,
                accessEntries: Object.fromEntries(
                    config.cluster.adminRoleArns.map((arn, i) => [
                        `admin-${i}`,
                        {
                            principalArn: arn,
                            accessPolicies: {
                                admin: { policyArn: CLUSTER_ADMIN_POLICY, accessScope: { type: "cluster" } },
                            },
                        },
                    ]),
                ),
                createOidcProvider: true,
                enabledClusterLogTypes: config.cluster.logTypes,
                ...(secretsKey ? { encryptionConfigKeyArn: secretsKey.arn } : {}),
                skipDefaultNodeGroup: true,
                nodeAssociatePublicIpAddress: false,
                // The VPC CNI's network policy agent: without it every NetworkPolicy the testbed renders is ignored.
                // Prefix delegation: each ENI slot holds a /28, so small (e.g. t4g.medium, 17 pods without it) system
                // nodes fit the DaemonSets and system pods; managed node groups then compute a max-pods to match.
                vpcCniOptions: { enableNetworkPolicy: true, enablePrefixDelegation: true },
            },
            parent,
        );

        this.clusterName = pulumi.output(args.clusterName);
        this.kubeconfig = pulumi.secret(cluster.kubeconfigJson);
        this.oidcIssuer = cluster.oidcProviderUrl;
        this.oidcProviderArn = cluster.oidcProviderArn;
        this.k8sProvider = new k8s.Provider(
            `${name}-k8s`,
            { kubeconfig: this.kubeconfig, ...K8S_PROVIDER_SETTINGS },
            parent,
        );

        const nodeRole = createNodeRole(name, {}, this);
        const system = config.cluster.systemNodes;
        const systemGroup = (part: string, capacityType: "spot" | "on-demand", sizes: SystemGroupSizes) =>
            new ManagedNodeGroup(
                `${name}-${part}`,
                {
                    clusterName: args.clusterName,
                    nodeRoleArn: nodeRole.arn,
                    subnetIds: network.privateSubnetIds,
                    instanceTypes: system.instanceTypes,
                    capacityType,
                    amiType: systemAmiType(system.instanceTypes),
                    ...sizes,
                    diskSizeGiB: system.diskSizeGiB,
                    // With spot, a label that tells the two groups apart: the autoscaler balances scale-ups over
                    // "similar" groups, which would put half of them on the on-demand fallback.
                    labels: {
                        ...SYSTEM_NODE_LABELS,
                        ...(system.capacityType === "spot" ? { [SYSTEM_CAPACITY_LABEL]: capacityType } : {}),
                    },
                    taints: [],
                    tags: {},
                },
                { parent: this, dependsOn: [cluster, ...network.privateEgress] },
            );
        const systemNodes = systemGroup("system", system.capacityType, system);
        // Spot system nodes: an on-demand group of the same shape at size 0, which the autoscaler grows (after the
        // spot group, by priority) only when spot capacity cannot be had.
        if (system.capacityType === "spot")
            systemGroup(SYSTEM_FALLBACK_PART, "on-demand", { minSize: 0, maxSize: system.maxSize, desiredSize: 0 });

        for (const pool of config.gpuNodePools) {
            new ManagedNodeGroup(
                `${name}-gpu-${pool.name}`,
                {
                    clusterName: args.clusterName,
                    nodeRoleArn: nodeRole.arn,
                    subnetIds: network.privateSubnetIds,
                    instanceTypes: pool.instanceTypes,
                    capacityType: pool.capacityType,
                    amiType: gpuAmiType(pool.instanceTypes),
                    minSize: pool.minSize,
                    maxSize: pool.maxSize,
                    desiredSize: pool.minSize,
                    diskSizeGiB: pool.diskSizeGiB,
                    labels: { ...pool.labels, ...GPU_NODE_LABELS, "mlops-testbed/gpu-pool": pool.name },
                    taints: [GPU_TAINT],
                    tags: {},
                },
                { parent: this, dependsOn: [cluster, ...network.privateEgress] },
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

        this.gpuScheduling = awsGpuScheduling();
        this.systemScheduling = { nodeSelector: { ...SYSTEM_NODE_LABELS }, tolerations: [] };

        // The device plugin is a DaemonSet on GPU nodes only: ready with zero nodes, so it needs the API, not the
        // system nodes. The autoscaler's pod runs on a system node, so its release waits for them.
        new NvidiaDevicePlugin(
            `${name}-nvidia`,
            { gpuScheduling: this.gpuScheduling, namespace: "kube-system" },
            { parent: this, providers: [this.k8sProvider] },
        );
        const k8sChildren = { parent: this, providers: [this.k8sProvider], dependsOn: [systemNodes] };
        new ClusterAutoscaler(
            `${name}-autoscaler`,
            {
                clusterName: args.clusterName,
                region: config.aws.region,
                kubernetesVersion: config.cluster.kubernetesVersion,
                oidcProviderArn: this.oidcProviderArn,
                oidcIssuer: this.oidcIssuer,
                scaleDownUnneededMinutes: config.cluster.scaleDownUnneededMinutes,
                spotSystemNodes: config.cluster.systemNodes.capacityType === "spot",
                systemScheduling: this.systemScheduling,
                tags: {},
            },
            k8sChildren,
        );

        // Volumes: the EBS CSI driver (EKS add-on) with its own IRSA role, and the default StorageClass every claim
        // of the cluster layer names, encrypted with the stack's volumes key.
        const volumesKey = ownKeys
            ? new kms.Key(
                  `${name}-volumes-key`,
                  {
                      description: `Encryption of the EBS volumes of ${args.clusterName}'s PersistentVolumeClaims`,
                      enableKeyRotation: true,
                      deletionWindowInDays: 30,
                  },
                  parent,
              )
            : undefined;
        const ebsCsiRole = new IrsaRole(
            `${name}-ebs-csi`,
            {
                namespace: EBS_CSI_SERVICE_ACCOUNT.namespace,
                serviceAccount: EBS_CSI_SERVICE_ACCOUNT.name,
                oidcProviderArn: this.oidcProviderArn,
                oidcIssuer: this.oidcIssuer,
                // aws/ebs needs no statement: the managed policy covers AWS managed keys.
                statements: volumesKey?.arn.apply(ebsCsiKmsStatements),
                managedPolicyArns: [EBS_CSI_MANAGED_POLICY],
            },
            parent,
        );
        const ebsCsi = new eksApi.Addon(
            `${name}-ebs-csi`,
            {
                clusterName: args.clusterName,
                addonName: EKS_ADDONS.ebsCsiDriver.name,
                addonVersion: EKS_ADDONS.ebsCsiDriver.version,
                serviceAccountRoleArn: ebsCsiRole.roleArn,
                resolveConflictsOnCreate: "OVERWRITE",
                resolveConflictsOnUpdate: "OVERWRITE",
            },
            { parent: this, dependsOn: [systemNodes] },
        );
        const storageClass = new k8s.storage.v1.StorageClass(
            `${name}-storage-class`,
            {
                metadata: {
                    name: AWS_STORAGE_CLASS,
                    annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
                },
                provisioner: "ebs.csi.aws.com",
                parameters: {
                    type: "gp3",
                    encrypted: "true",
                    ...(volumesKey ? { kmsKeyId: volumesKey.arn } : {}),
                },
                volumeBindingMode: "WaitForFirstConsumer",
                reclaimPolicy: "Delete",
                allowVolumeExpansion: true,
            },
            { parent: this, provider: this.k8sProvider, dependsOn: [ebsCsi] },
        );

        this.store = new AwsArtifactStore(
            `${name}-store`,
            {
                protection: config.artifactStores.protection,
                noncurrentVersionDays: config.artifactStores.noncurrentVersionDays,
                encryptionKeys: config.aws.encryptionKeys,
                tags: {},
            },
            parent,
        );
        this.artifactStore = {
            kind: "s3",
            modelsBucket: this.store.models.bucketName,
            datasetsBucket: this.store.datasets.bucketName,
            region: config.aws.region,
            endpoint: null,
            egress: { kind: "public", port: 443 },
        };
        this.datasetEvents = new AwsDatasetEvents(
            `${name}-dataset-events`,
            { bucketName: this.store.datasets.bucketName, tags: {} },
            parent,
        );
        this.datasetChanges = sqsConsumer(this.datasetEvents.queueUrl, config.aws.region);
        this.registry = new AwsImageRegistry(
            `${name}-registry`,
            {
                repositoryName: `${args.clusterName}/model-server`,
                protection: config.artifactStores.protection,
                keepImages: config.registry.keepImages,
                untaggedDays: config.registry.untaggedDays,
                tags: {},
            },
            parent,
        );
        this.imageRegistry = { repositoryUrl: this.registry.repositoryUrl, tls: "verify", login: "ecr" };
        // Claims bind only once the driver and the class exist.
        this.clusterReady = [systemNodes, storageClass];

        this.registerOutputs({ clusterName: this.clusterName, oidcIssuer: this.oidcIssuer });
    }

    bindWorkloadIdentity(
        name: string,
        args: WorkloadIdentityArgs,
        opts?: pulumi.ComponentResourceOptions,
    ): WorkloadIdentityBinding {
        const buckets: Record<StoreName, pulumi.Output<string>> = {
            models: this.store.models.bucketArn,
            datasets: this.store.datasets.bucketArn,
        };
        const statements = pulumi
            .all([
                buckets.models,
                buckets.datasets,
                this.store.kmsKeyArn ?? pulumi.output(undefined),
                this.registry.repositoryArn,
                this.datasetEvents.queueArn,
            ])
            .apply(([models, datasets, key, repo, queue]) => [
                ...s3GrantStatements(args.grants, { models, datasets }, key),
                ...(args.registryPush ? ecrPushStatements(repo) : []),
                ...(args.consumeDatasetChanges ? consumerStatements(queue) : []),
            ]);
        // Parented to the platform (the cloud owns the identity), so named after it.
        const role = new IrsaRole(
            `${this.platformName}-${name}`,
            {
                namespace: args.namespace,
                serviceAccount: args.serviceAccount,
                oidcProviderArn: this.oidcProviderArn,
                oidcIssuer: this.oidcIssuer,
                statements,
            },
            { parent: this, ...opts },
        );
        return { serviceAccountAnnotations: role.serviceAccountAnnotations, podLabels: {}, identity: role.roleArn };
    }
}
