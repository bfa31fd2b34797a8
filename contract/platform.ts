import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { CloudName, RegistryTls } from "./clouds";

/**
 * The only thing that crosses from a cloud platform (components/aws, components/azure, components/existing)
 * into the cloud-agnostic cluster layer (components/models, monitoring, pipelines). Adding a cloud means
 * implementing this interface, nothing else.
 */
export interface Platform {
    /** Which platform built the cluster. */
    readonly cloud: CloudName;
    /** Cloud region, or null where none applies (existing clusters). */
    readonly region: string | null;
    /** Name of the Kubernetes cluster. */
    readonly clusterName: pulumi.Output<string>;
    /** Kubeconfig of the cluster, always a secret. */
    readonly kubeconfig: pulumi.Output<string>;
    /** OIDC issuer URL of the cluster's service-account tokens, or null where the platform has none. */
    readonly oidcIssuer: pulumi.Output<string> | null;
    /** The explicit provider every Kubernetes resource of the cluster layer must use. */
    readonly k8sProvider: k8s.Provider;
    /** Where GPU workloads go, and the taint they must tolerate. */
    readonly gpuScheduling: GpuScheduling;
    /** Where system workloads (monitoring, Tekton, gateway) go. */
    readonly systemScheduling: Scheduling;
    /** The object store for models and training data. */
    readonly artifactStore: ArtifactStore;
    /** Registry for model-server images. */
    readonly imageRegistry: ImageRegistry;
    /**
     * Where changes to the datasets store can be read from inside the cluster (the dataset-change trigger's
     * consumer forwards them to the EventListener), or null where this platform provides none.
     */
    readonly datasetChanges: DatasetChangeSource | null;
    /**
     * StorageClass every PersistentVolumeClaim of the cluster layer names (Prometheus, Alertmanager, the runs'
     * workspaces): one that exists on this platform (the platform creates it, or the cloud ships it), or null for
     * the cluster's default class (an existing cluster without `existing.storageClass`).
     */
    readonly storageClass: string | null;
    /**
     * Whether the cluster layer installs metrics-server (the pinned chart), which the model servers' HPAs need:
     * not where the platform runs one (AKS); `kubeletInsecureTls` where kubelets serve self-signed certificates
     * (kind).
     */
    readonly metricsServer:
        { readonly install: false } | { readonly install: true; readonly kubeletInsecureTls: boolean };
    /** GPU node pools as built, for the outputs and for dashboards. */
    readonly gpuNodePools: readonly GpuNodePoolSummary[];
    /**
     * Resources the cluster layer must wait for before it installs workloads: nodes able to run its pods (the
     * system nodes). GPU nodes come and go with the autoscaler and are never waited for. Pass as `dependsOn`.
     */
    readonly clusterReady: pulumi.Resource[];
    /**
     * Binds a Kubernetes service account to a cloud identity allowed only the given store access. The cluster
     * layer puts the returned annotations and labels on the service account and pods.
     */
    bindWorkloadIdentity(
        name: string,
        args: WorkloadIdentityArgs,
        opts?: pulumi.ComponentResourceOptions,
    ): WorkloadIdentityBinding;
}

export interface Scheduling {
    readonly nodeSelector: Readonly<Record<string, string>>;
    readonly tolerations: readonly k8s.types.input.core.v1.Toleration[];
}

export interface GpuScheduling extends Scheduling {
    /** The extended resource a GPU pod requests (limits). */
    readonly resourceName: "nvidia.com/gpu";
    /** The label every GPU node carries; selectors and affinities use it. */
    readonly nodeLabel: { readonly key: string; readonly value: string };
}

export type ArtifactStoreKind = "s3" | "azure-blob" | "s3-compatible";

export interface ArtifactStore {
    readonly kind: ArtifactStoreKind;
    /** Bucket (container) for versioned models: models/<model>/<version>/. */
    readonly modelsBucket: pulumi.Output<string>;
    /** Bucket (container) for training data. */
    readonly datasetsBucket: pulumi.Output<string>;
    /** Region of the store, or null. */
    readonly region: string | null;
    /** Endpoint URL for S3-compatible clients, or null to use the cloud default. */
    readonly endpoint: pulumi.Output<string> | null;
    /**
     * CIDR blocks or in-cluster peers the store is reached through, for egress NetworkPolicies. A cloud store
     * is reached over HTTPS (443) outside the cluster; an in-cluster store by namespace and port.
     */
    readonly egress: StoreEgress;
}

export type StoreEgress =
    | { readonly kind: "external-https"; readonly port: 443 }
    | {
          readonly kind: "in-cluster";
          readonly namespace: string;
          readonly podLabels: Readonly<Record<string, string>>;
          readonly port: number;
      };

/**
 * A feed of object events of the datasets store. Each platform provides its own; the in-cluster consumer
 * (pipelines/install/triggers.ts, one per kind) reads it and posts every object creation to the EventListener in
 * the shape of S3's EventBridge "Object Created" event, the one shape the dataset trigger accepts:
 * - `sqs`: S3 → EventBridge rule → SQS queue, long-polled by the consumer with its own identity (AWS);
 * - `event-grid`: the storage account's Event Grid system topic → BlobCreated in the datasets container → a
 *   Storage Queue, polled by the consumer with its own workload identity (Azure);
 * - `seaweedfs-filer`: the in-cluster SeaweedFS filer's metadata event stream, tailed by the consumer; no cloud
 *   identity (existing clusters).
 */
export type DatasetChangeSource =
    | {
          readonly kind: "sqs";
          /** URL of the queue the consumer polls. */
          readonly queueUrl: pulumi.Output<string>;
          /** Region of the queue. */
          readonly region: string;
          /** How the consumer reaches the queue, for egress NetworkPolicies. */
          readonly egress: { readonly kind: "external-https"; readonly port: 443 };
      }
    | {
          readonly kind: "event-grid";
          /** URL of the Storage Queue the consumer polls (https://<account>.queue.core.windows.net/<queue>). */
          readonly queueUrl: pulumi.Output<string>;
          /** Name of the blob container whose creations are delivered (the datasets container). */
          readonly container: pulumi.Output<string>;
          /** How the consumer reaches the queue and Entra ID, for egress NetworkPolicies. */
          readonly egress: { readonly kind: "external-https"; readonly port: 443 };
      }
    | {
          readonly kind: "seaweedfs-filer";
          /** The filer's address as `weed filer.meta.tail -filer` takes it (host:http port; gRPC is port + 10000). */
          readonly filerAddress: string;
          /** Filer path of the buckets (the S3 gateway's buckets folder). */
          readonly bucketsPath: string;
          /** Name of the datasets bucket. */
          readonly bucket: string;
          /** The filer's pods and gRPC port, for egress NetworkPolicies. */
          readonly egress: {
              readonly kind: "in-cluster";
              readonly namespace: string;
              readonly podLabels: Readonly<Record<string, string>>;
              readonly port: number;
          };
      };

export type DatasetChangeKind = DatasetChangeSource["kind"];

export interface ImageRegistry {
    /** Repository URL model-server images are pushed to (e.g. <account>.dkr.ecr.<region>.amazonaws.com/<repo>). */
    readonly repositoryUrl: pulumi.Output<string>;
    /** How pushes reach the registry: cloud registries are always `verify`. */
    readonly tls: RegistryTls;
}

export interface GpuNodePoolSummary {
    readonly name: string;
    readonly instanceTypes: readonly string[];
    readonly capacityType: "spot" | "on-demand";
    readonly minSize: number;
    readonly maxSize: number;
}

export type StoreName = "models" | "datasets";
export type AccessMode = "read" | "write" | "read-write";

export interface StoreGrant {
    /** Which store. */
    readonly store: StoreName;
    /** Key prefix the grant is limited to, without leading slash, ending in "/" (e.g. "models/iris/v1/"); "" for the whole store. */
    readonly prefix: string;
    readonly access: AccessMode;
}

export interface WorkloadIdentityArgs {
    /**
     * Namespace of the service account. Pass the Namespace resource's `metadata.name` when the namespace is
     * created in the same program: a platform may create objects in it (see `credentialsSecret`).
     */
    readonly namespace: pulumi.Input<string>;
    /** Name of the service account. */
    readonly serviceAccount: pulumi.Input<string>;
    /** Store access the identity gets; nothing else. */
    readonly grants: readonly StoreGrant[];
    /** Whether the identity may push images to the image registry. */
    readonly registryPush?: boolean;
    /** Whether the identity may read (and delete what it has read) from the dataset change source. */
    readonly consumeDatasetChanges?: boolean;
}

export interface WorkloadIdentityBinding {
    /** Annotations for the Kubernetes ServiceAccount (e.g. eks.amazonaws.com/role-arn). */
    readonly serviceAccountAnnotations: pulumi.Output<Record<string, string>>;
    /** Labels pods of the service account need (e.g. Azure workload identity); may be empty. */
    readonly podLabels: Readonly<Record<string, string>>;
    /** The cloud identity (role ARN, client id); for outputs and policies. */
    readonly identity: pulumi.Output<string>;
    /**
     * Name of a Secret the platform creates in the service account's namespace with static store credentials
     * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL_S3, AWS_REGION), for platforms without
     * token-based workload identity (the in-cluster store of an existing cluster). Every pod of the service
     * account MUST load it with `envFrom: [{ secretRef: { name } }]`, or it has no store access. Absent where the
     * cloud injects credentials itself. The name is known without waiting for the Secret, so the cluster layer
     * may record it on the namespace that holds the Secret; pass that Namespace's `metadata.name` as
     * `WorkloadIdentityArgs.namespace` so the Secret waits for its namespace. The credentials never appear in
     * plaintext: only in the Secret, as secret values.
     */
    readonly credentialsSecret?: pulumi.Output<string>;
}
