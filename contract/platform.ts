import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { CloudName, RegistryTls } from "./clouds";

/**
 * The only thing that crosses from a cloud platform (components/aws, components/azure, components/existing)
 * into the cloud-agnostic cluster layer (components/models, monitoring, pipelines). Adding a cloud means
 * implementing this interface, nothing else: the platform owns its runtime too (how the steps reach its store and
 * registry, what reads its dataset changes).
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
     * What the cluster layer runs to forward changes to the datasets store to the EventListener (the dataset-change
     * trigger), or null where this platform provides none.
     */
    readonly datasetChanges: DatasetChangeConsumer | null;
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
    /** Which add-ons the cluster layer installs, and which it finds running (an existing cluster's `present`). */
    readonly addons: ClusterAddons;
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

/**
 * Add-ons of the cluster layer a cluster may already run. `install`: the cluster layer installs its pinned release.
 * `present`: it uses what runs, as docs/existing-cluster.md describes (what each expects to find, and what the
 * testbed still creates).
 */
export interface ClusterAddons {
    /** The Prometheus Operator stack; present: the Prometheus and Alertmanager resources (in `monitoring`) to use. */
    readonly monitoring:
        | { readonly mode: "install" }
        | { readonly mode: "present"; readonly prometheus: string; readonly alertmanager: string };
    /** Envoy Gateway; present: the GatewayClass (served by it) the testbed's Gateways ask for. */
    readonly gateway: { readonly mode: "install" } | { readonly mode: "present"; readonly gatewayClassName: string };
    /** Tekton Pipelines and Triggers; present: the namespace of the Pipelines controller. */
    readonly tekton: { readonly mode: "install" } | { readonly mode: "present"; readonly namespace: string };
}

/** Every add-on installed by the cluster layer: what a platform that builds its cluster returns. */
export const ALL_ADDONS_INSTALLED: ClusterAddons = {
    monitoring: { mode: "install" },
    gateway: { mode: "install" },
    tekton: { mode: "install" },
};

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

/**
 * Which adapter the steps use for the store (mlops_steps/store.py): `s3` (AWS S3), `s3-compatible` (the S3 API at an
 * endpoint, path-style), `azure-blob` (the Blob API at the account's blob endpoint).
 */
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
    /** How the store is reached from pods, for egress NetworkPolicies. */
    readonly egress: Egress;
}

/** How a workload reaches a service outside its namespace, for its egress NetworkPolicy. */
export type Egress =
    /** Public addresses (outside the private, link-local and CGNAT ranges of CLUSTER_PRIVATE_RANGES) on a port. */
    | { readonly kind: "public"; readonly port: number }
    /** Listed address blocks on a port: a service on a network outside the cluster that is not public. */
    | { readonly kind: "address-blocks"; readonly cidrs: readonly string[]; readonly port: number }
    /** Pods in a namespace on a port: a service inside the cluster. */
    | {
          readonly kind: "in-cluster";
          readonly namespace: string;
          readonly podLabels: Readonly<Record<string, string>>;
          readonly port: number;
      };

/**
 * What the cluster layer runs to forward the platform's changes to the datasets store to the EventListener
 * (pipelines/install/dataset-changes.ts): one pod of the platform's containers, in the pipelines namespace, as the
 * service account DATASET_CONSUMER.name. Every container posts each object created in the datasets store to
 * LISTENER_URL as S3's EventBridge "Object Created" event, the one shape the dataset trigger accepts
 * (contract/dataset_change_event.py builds it).
 *
 * The cluster layer adds to every container: env LISTENER_URL (the EventListener) and HOME=/tmp; an emptyDir at
 * /tmp and, when `scripts` has any, the scripts ConfigMap at DATASET_CONSUMER.scripts.mountPath (read-only, with
 * dataset_change_event.py beside them); small default resources unless the container sets its own; and the pod's
 * security: non-root (uid 1000), read-only root filesystem, no privilege escalation, no capabilities, no service
 * account token. Its egress is DNS, `egress` and the EventListener, nothing else.
 */
export interface DatasetChangeConsumer {
    /** The pod's containers: images, commands and the env of the platform's source (queue URL, filer address...). */
    readonly containers: readonly k8s.types.input.core.v1.Container[];
    /** Volumes the containers mount besides /tmp and the scripts (e.g. a pipe between two containers). */
    readonly volumes: readonly k8s.types.input.core.v1.Volume[];
    /** Scripts the containers run, by file name, shipped in the consumer's ConfigMap; none: no ConfigMap. */
    readonly scripts: Readonly<Record<string, string>>;
    /** How the containers reach the platform's source of changes. */
    readonly egress: Egress;
    /**
     * Whether the consumer needs a cloud identity: the cluster layer then binds its service account through
     * bindWorkloadIdentity with `consumeDatasetChanges` and puts the binding's labels on the pod.
     */
    readonly identity: boolean;
}

/**
 * How the build step logs in to push (mlops_steps/registry.py): `ecr` (the builder's IRSA role asks ECR for a
 * token), `acr` (the builder's workload identity: Entra ID token, exchanged for a registry refresh token), `none`
 * (no credentials: a registry that takes the push anonymously or through the nodes).
 */
export type RegistryLogin = "ecr" | "acr" | "none";

export interface ImageRegistry {
    /** Repository URL model-server images are pushed to (e.g. <account>.dkr.ecr.<region>.amazonaws.com/<repo>). */
    readonly repositoryUrl: pulumi.Output<string>;
    /** How pushes reach the registry: cloud registries are always `verify`. */
    readonly tls: RegistryTls;
    /** How the build step logs in (the registry adapter the steps use). */
    readonly login: RegistryLogin;
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
