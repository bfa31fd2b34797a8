import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ExistingConfig, ExistingPlatformConfig } from "../../contract/config/platform";
import { CONFIG_NAMESPACE, UNREADABLE_SECRET } from "../../contract/config/issues";
import { NvidiaDevicePlugin } from "../gpu/nvidia-device-plugin";
import type {
    ArtifactStore,
    ClusterAddons,
    DatasetChangeConsumer,
    GpuNodePoolSummary,
    GpuScheduling,
    ImageRegistry,
    Platform,
    Scheduling,
    WorkloadIdentityArgs,
    WorkloadIdentityBinding,
} from "../../contract/platform";
import { STORE_ENDPOINT, STORE_S3_POD_LABELS, STORE_S3_PORT, SeaweedfsStore } from "./seaweedfs";
import { ExternalStore, externalArtifactStore, type StoreKeys } from "./external-store";
import { filerConsumer } from "./dataset-events";
import { StoreIdentity } from "./store-identity";
import { STORE_NAMESPACE } from "../../contract/names";
import { TEKTON } from "../../contract/versions";

export interface ExistingPlatformArgs {
    /** The stack's validated config as far as the existing-cluster platform reads it. */
    readonly config: ExistingPlatformConfig;
    /** The cluster's kubeconfig, a secret (read from the `kubeconfig` config key). */
    readonly kubeconfig: pulumi.Input<string>;
    /** An external store's keys from the secret `storeCredentials` config key, when it names no credentials Secret. */
    readonly storeKeys?: pulumi.Output<StoreKeys>;
}

/**
 * Reads the secret `storeCredentials` config key ({ accessKeyId, secretAccessKey } as JSON); it stays a secret
 * Output. Offline, where the encrypted value cannot be read, the keys are that placeholder.
 */
export function storeKeysFromConfig(): pulumi.Output<StoreKeys> {
    return new pulumi.Config(CONFIG_NAMESPACE)
        .requireSecret("storeCredentials")
        .apply((text) =>
            text === UNREADABLE_SECRET ? { accessKeyId: text, secretAccessKey: text } : (JSON.parse(text) as StoreKeys),
        );
}

/** The add-ons as `existing.addons` describes them (validation guarantees each present mode's fields). */
export function existingAddons(addons: ExistingConfig["addons"]): ClusterAddons {
    const { monitoring, gateway, tekton } = addons;
    return {
        monitoring:
            monitoring.mode === "present"
                ? { mode: "present", prometheus: monitoring.prometheus!, alertmanager: monitoring.alertmanager! }
                : { mode: "install" },
        gateway:
            gateway.mode === "present"
                ? { mode: "present", gatewayClassName: gateway.gatewayClassName! }
                : { mode: "install" },
        tekton:
            tekton.mode === "present"
                ? { mode: "present", namespace: tekton.namespace ?? TEKTON.pipelines.namespace }
                : { mode: "install" },
    };
}

/** GPU scheduling described by config: the label GPU nodes carry and a toleration per GPU taint. */
export function existingGpuScheduling(gpu: ExistingConfig["gpu"]): GpuScheduling {
    return {
        resourceName: "nvidia.com/gpu",
        nodeLabel: { key: gpu.nodeLabel.key, value: gpu.nodeLabel.value },
        nodeSelector: { [gpu.nodeLabel.key]: gpu.nodeLabel.value },
        tolerations: gpu.taints.map((t) => ({ key: t.key, operator: "Exists", effect: t.effect })),
    };
}

/** Reads the secret `kubeconfig` config key; the value never leaves a secret Output. */
export function kubeconfigFromConfig(): pulumi.Output<string> {
    return new pulumi.Config(CONFIG_NAMESPACE).requireSecret("kubeconfig");
}

/** What `existing.metricsServer` asks of the cluster layer. */
const METRICS_SERVER_SETTINGS = {
    install: { install: true, kubeletInsecureTls: false },
    "install-kubelet-insecure-tls": { install: true, kubeletInsecureTls: true },
    present: { install: false },
} as const satisfies Record<string, Platform["metricsServer"]>;

/**
 * Any Kubernetes cluster reachable with a kubeconfig (kind, k3s, on-premises): nothing is created outside the
 * cluster. The artifact store is SeaweedFS in the cluster (S3 API with authentication, versioned `models` and
 * `datasets` buckets; workload identity is per-service-account S3 keys scoped to bucket prefixes, see
 * StoreIdentity), or an external S3-compatible store (ExternalStore: one set of keys, copied where needed). Images go
 * to the configured registry; GPU scheduling follows the configured node label and taints; add-ons the cluster
 * already runs are used, not installed (`existing.addons`).
 */
export class ExistingPlatform extends pulumi.ComponentResource implements Platform {
    /** The in-cluster store's filer metadata events; an external store offers none the testbed can read. */
    readonly datasetChanges: DatasetChangeConsumer | null;
    readonly addons: ClusterAddons;
    readonly cloud = "existing" as const;
    readonly region = null;
    readonly clusterName: pulumi.Output<string>;
    readonly kubeconfig: pulumi.Output<string>;
    readonly oidcIssuer = null;
    readonly k8sProvider: k8s.Provider;
    readonly gpuScheduling: GpuScheduling;
    readonly systemScheduling: Scheduling;
    readonly artifactStore: ArtifactStore;
    readonly imageRegistry: ImageRegistry;
    readonly storageClass: string | null;
    readonly metricsServer: Platform["metricsServer"];
    readonly gpuNodePools: readonly GpuNodePoolSummary[] = [];
    readonly clusterReady: pulumi.Resource[];

    private readonly store:
        | { readonly kind: "seaweedfs"; readonly seaweedfs: SeaweedfsStore }
        | { readonly kind: "external"; readonly external: ExternalStore };
    private readonly platformName: string;

    constructor(name: string, args: ExistingPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlops-testbed:existing:Platform", name, {}, opts);
        this.platformName = name;
        const existing = args.config.existing;
        this.clusterName = pulumi.output(existing.clusterName);
        this.kubeconfig = pulumi.secret(args.kubeconfig);
        this.k8sProvider = new k8s.Provider(
            `${name}-k8s`,
            { kubeconfig: this.kubeconfig, enableServerSideApply: true },
            { parent: this },
        );
        this.gpuScheduling = existingGpuScheduling(existing.gpu);
        this.systemScheduling = { nodeSelector: { ...existing.systemNodeSelector }, tolerations: [] };
        const k8sChildren = { parent: this, providers: [this.k8sProvider] };

        if (existing.store.kind === "external") {
            this.store = {
                kind: "external",
                external: new ExternalStore(
                    `${name}-store`,
                    { store: existing.store, keys: args.storeKeys },
                    k8sChildren,
                ),
            };
            this.artifactStore = externalArtifactStore(existing.store);
            this.datasetChanges = null;
        } else {
            this.store = {
                kind: "seaweedfs",
                seaweedfs: new SeaweedfsStore(
                    `${name}-store`,
                    {
                        storageClass: existing.storageClass,
                        storeSize: existing.storeSize,
                        nodeSelector: existing.systemNodeSelector,
                        protection: args.config.artifactStores.protection,
                    },
                    k8sChildren,
                ),
            };
            this.artifactStore = {
                kind: "s3-compatible",
                modelsBucket: pulumi.output("models"),
                datasetsBucket: pulumi.output("datasets"),
                region: null,
                endpoint: pulumi.output(STORE_ENDPOINT),
                egress: {
                    kind: "in-cluster",
                    namespace: STORE_NAMESPACE,
                    podLabels: { ...STORE_S3_POD_LABELS },
                    port: STORE_S3_PORT,
                },
            };
            this.datasetChanges = filerConsumer("datasets");
        }
        this.addons = existingAddons(existing.addons);
        // The registry's credentials, if it needs any, are outside this program (the nodes' or a docker config Secret).
        this.imageRegistry = {
            repositoryUrl: pulumi.output(existing.imageRegistry),
            tls: existing.registryTls,
            login: "none",
        };
        this.storageClass = existing.storageClass ?? null;
        this.metricsServer = METRICS_SERVER_SETTINGS[existing.metricsServer];
        if (existing.gpu.installDevicePlugin) {
            new NvidiaDevicePlugin(
                `${name}-nvidia`,
                { gpuScheduling: this.gpuScheduling, namespace: "kube-system" },
                k8sChildren,
            );
        }
        // The nodes exist already; the store is waited for only by what uses it (the store identities).
        this.clusterReady = [];
        this.registerOutputs({ clusterName: this.clusterName });
    }

    bindWorkloadIdentity(
        name: string,
        args: WorkloadIdentityArgs,
        opts?: pulumi.ComponentResourceOptions,
    ): WorkloadIdentityBinding {
        // registryPush: the configured registry's credentials are outside this program (docker config secret).
        if (this.store.kind === "external") {
            // One set of keys for every workload that uses the store; none where a workload has no store grant.
            const credentialsSecret =
                args.grants.length > 0
                    ? this.store.external.credentialsFor(
                          `${this.platformName}-${name}`,
                          args.namespace,
                          args.serviceAccount,
                          // Parented to the platform (the cloud owns the identity), so named after it.
                          { parent: this, provider: this.k8sProvider, ...opts },
                      )
                    : undefined;
            return {
                serviceAccountAnnotations: pulumi.output<Record<string, string>>({}),
                podLabels: {},
                identity: pulumi.output(`keys of ${this.store.external.source}`),
                ...(credentialsSecret ? { credentialsSecret } : {}),
            };
        }
        // Parented to the platform (the cloud owns the identity), so named after it.
        const identity = new StoreIdentity(
            `${this.platformName}-${name}`,
            {
                namespace: args.namespace,
                serviceAccount: args.serviceAccount,
                grants: args.grants,
                storeReady: [this.store.seaweedfs.release],
            },
            { parent: this, providers: [this.k8sProvider], ...opts },
        );
        return {
            serviceAccountAnnotations: pulumi.output<Record<string, string>>({}),
            podLabels: {},
            identity: identity.userName,
            credentialsSecret: identity.credentialsSecret,
        };
    }
}
