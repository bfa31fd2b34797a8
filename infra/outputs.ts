import * as pulumi from "@pulumi/pulumi";
import type { Platform } from "../contract/platform";

/**
 * The stack outputs: a public API read by `pulumi stack output --json` and StackReferences. The same keys on
 * every cloud; a key that does not apply (or whose feature has not been built yet) is null, never missing.
 * Secrets are always wrapped as secrets. Documented in docs/outputs.md; change only by adding keys.
 */
export interface StackOutputs {
    cloud: pulumi.Input<string>;
    region: pulumi.Input<string | null>;
    clusterName: pulumi.Input<string>;
    kubeconfig: pulumi.Output<string>;
    oidcIssuer: pulumi.Input<string | null>;
    gpuNodePools: pulumi.Input<GpuNodePoolOutput[]>;
    artifactStore: pulumi.Input<ArtifactStoreOutput>;
    imageRegistry: pulumi.Input<string | null>;
    modelNamespaces: pulumi.Input<Record<string, Record<string, string>> | null>;
    modelEndpoints: pulumi.Input<Record<string, string> | null>;
    grafanaUrl: pulumi.Input<string | null>;
    prometheusUrl: pulumi.Input<string | null>;
    alertmanagerUrl: pulumi.Input<string | null>;
    grafanaAdminPassword: pulumi.Output<string> | null;
    dashboards: pulumi.Input<{ title: string; uid: string }[] | null>;
    pipelinesNamespace: pulumi.Input<string | null>;
    pipelines: pulumi.Input<string[] | null>;
    gitWebhookUrl: pulumi.Input<string | null>;
    gitWebhookSecret: pulumi.Output<string> | null;
}

export interface GpuNodePoolOutput {
    name: string;
    instanceTypes: string[];
    capacityType: "spot" | "on-demand";
    minSize: number;
    maxSize: number;
}

export interface ArtifactStoreOutput {
    kind: string;
    modelsBucket: string;
    datasetsBucket: string;
    region: string | null;
    endpoint: string | null;
}

/** Every output key, in the documented order; a test checks docs/outputs.md lists exactly these. */
export const OUTPUT_KEYS = [
    "cloud",
    "region",
    "clusterName",
    "kubeconfig",
    "oidcIssuer",
    "gpuNodePools",
    "artifactStore",
    "imageRegistry",
    "modelNamespaces",
    "modelEndpoints",
    "grafanaUrl",
    "prometheusUrl",
    "alertmanagerUrl",
    "grafanaAdminPassword",
    "dashboards",
    "pipelinesNamespace",
    "pipelines",
    "gitWebhookUrl",
    "gitWebhookSecret",
] as const satisfies readonly (keyof StackOutputs)[];

/** Keys whose values are always secrets. */
export const SECRET_OUTPUT_KEYS = [
    "kubeconfig",
    "grafanaAdminPassword",
    "gitWebhookSecret",
] as const satisfies readonly (keyof StackOutputs)[];

/** What the cluster layer contributes; everything not given is null. */
export type ClusterLayerOutputs = Partial<
    Omit<
        StackOutputs,
        | "cloud"
        | "region"
        | "clusterName"
        | "kubeconfig"
        | "oidcIssuer"
        | "gpuNodePools"
        | "artifactStore"
        | "imageRegistry"
    >
>;

export function stackOutputs(platform: Platform, layer: ClusterLayerOutputs = {}): StackOutputs {
    const store = platform.artifactStore;
    return {
        cloud: platform.cloud,
        region: platform.region,
        clusterName: platform.clusterName,
        kubeconfig: pulumi.secret(platform.kubeconfig),
        oidcIssuer: platform.oidcIssuer,
        gpuNodePools: platform.gpuNodePools.map((p) => ({ ...p, instanceTypes: [...p.instanceTypes] })),
        artifactStore: pulumi
            .all([store.modelsBucket, store.datasetsBucket, store.endpoint])
            .apply(([modelsBucket, datasetsBucket, endpoint]) => ({
                kind: store.kind,
                modelsBucket,
                datasetsBucket,
                region: store.region,
                endpoint: endpoint ?? null,
            })),
        imageRegistry: platform.imageRegistry.repositoryUrl,
        modelNamespaces: layer.modelNamespaces ?? null,
        modelEndpoints: layer.modelEndpoints ?? null,
        grafanaUrl: layer.grafanaUrl ?? null,
        prometheusUrl: layer.prometheusUrl ?? null,
        alertmanagerUrl: layer.alertmanagerUrl ?? null,
        grafanaAdminPassword: layer.grafanaAdminPassword ? pulumi.secret(layer.grafanaAdminPassword) : null,
        dashboards: layer.dashboards ?? null,
        pipelinesNamespace: layer.pipelinesNamespace ?? null,
        pipelines: layer.pipelines ?? null,
        gitWebhookUrl: layer.gitWebhookUrl ?? null,
        gitWebhookSecret: layer.gitWebhookSecret ? pulumi.secret(layer.gitWebhookSecret) : null,
    };
}
