/**
 * Facts: the images that run on the system node group, at the versions the testbed pins, and the platforms their
 * publishers build. With Graviton system nodes (arm64) every one of them must publish linux/arm64;
 * `system-images.spec.ts` checks that every image the dev plan schedules there is listed here with it.
 *
 * Sources are the publishers' own statements of what they build (the registry manifests themselves could not be
 * read here: no registry access), as of December 2026. Check the manifest list (`crane manifest <image>` or
 * `docker buildx imagetools inspect <image>`) when bumping a version. An image published for amd64 only must stay
 * off arm64 nodes (a `kubernetes.io/arch: amd64` nodeSelector) and be listed with `["linux/amd64"]`.
 */
import {
    CHARTS,
    CLUSTER_AUTOSCALER_IMAGE_TAGS,
    EKS_ADDONS,
    IMAGES,
    TEKTON,
    TESTBED_BUILT_IMAGES,
} from "../../contract/versions";

export const IMAGE_PLATFORMS = ["linux/amd64", "linux/arm64"] as const;
export type ImagePlatform = (typeof IMAGE_PLATFORMS)[number];

/** What the publisher of an image builds for the pinned tag's release line, and where it says so. */
export interface PublishedPlatforms {
    /** The platforms of the manifest list that matter here (others, e.g. ppc64le, are left out). */
    readonly platforms: readonly ImagePlatform[];
    /** The publisher's page or build file that states them. */
    readonly source: string;
    /**
     * `read`: the source (at its default branch, not at the pinned tag) was read for this table; `not-read`: the
     * publisher's documented practice, not read here. Neither is the registry's manifest list.
     */
    readonly checked: "read" | "not-read";
}

const BOTH: readonly ImagePlatform[] = ["linux/amd64", "linux/arm64"];

const DOCKER_OFFICIAL = (name: string) =>
    `https://github.com/docker-library/official-images/blob/master/library/${name} (Debian and Alpine variants: Architectures amd64, arm64v8, ...)`;
const PROMETHEUS_BUILD = (repo: string) =>
    `https://github.com/prometheus/${repo}/blob/main/Makefile (DOCKER_ARCHS ?= amd64 armv7 arm64 ppc64le s390x; Makefile.common pushes one manifest list)`;
const PROMETHEUS_OPERATOR_BUILD =
    'https://github.com/prometheus-operator/prometheus-operator/blob/main/scripts/push-docker-image.sh (CPU_ARCHS="amd64 arm64 arm"; manifest list)';
const K8S_STAGING = (ownerRepo: string) =>
    `https://github.com/${ownerRepo}/blob/master/Makefile (ALL_ARCH: amd64, arm64, ...; the staging build's manifest list is promoted to registry.k8s.io)`;
const TEKTON_RELEASE = (repo: string) =>
    `https://github.com/tektoncd/${repo}/blob/main/tekton/release-pipeline.yaml (buildPlatforms default: linux/amd64, linux/arm, linux/arm64, linux/s390x, linux/ppc64le; ko)`;

/** Every image a system node may run, by the exact reference the plan or the release uses. */
export const SYSTEM_IMAGE_PLATFORMS: Readonly<Record<string, PublishedPlatforms>> = {
    // The testbed's own step and service images (contract/versions.ts IMAGES).
    [IMAGES.python]: { platforms: BOTH, checked: "read", source: DOCKER_OFFICIAL("python") },
    [IMAGES.node]: { platforms: BOTH, checked: "not-read", source: DOCKER_OFFICIAL("node") },
    [IMAGES.git]: {
        platforms: BOTH,
        checked: "read",
        source: "https://github.com/alpine-docker/git (README: multi-arch images since May 2021: linux/amd64, linux/arm64/v8, ...)",
    },
    [IMAGES.buildah]: {
        platforms: BOTH,
        checked: "not-read",
        source: "https://github.com/containers/image_build (buildah images built for amd64, arm64, ppc64le, s390x)",
    },
    [IMAGES.awsCli]: {
        platforms: BOTH,
        checked: "not-read",
        source: "https://docs.aws.amazon.com/cli/latest/userguide/getting-started-docker.html (official amazon/aws-cli images for amd64 and arm64)",
    },
    [IMAGES.seaweedfs]: {
        platforms: BOTH,
        checked: "not-read",
        source: "https://github.com/seaweedfs/seaweedfs/blob/master/.github/workflows/container_release.yml (linux/amd64, linux/arm64, ...)",
    },
    // kube-prometheus-stack 88.5.3 and its subcharts, at the chart defaults the testbed does not override.
    "quay.io/prometheus/prometheus:v3.14.0-distroless": {
        platforms: BOTH,
        checked: "read",
        source: PROMETHEUS_BUILD("prometheus"),
    },
    "quay.io/prometheus/alertmanager:v0.34.0": {
        platforms: BOTH,
        checked: "not-read",
        source: PROMETHEUS_BUILD("alertmanager"),
    },
    "quay.io/prometheus/node-exporter:v1.12.1": {
        platforms: BOTH,
        checked: "not-read",
        source: PROMETHEUS_BUILD("node_exporter"),
    },
    "quay.io/prometheus-operator/prometheus-operator:v0.93.1": {
        platforms: BOTH,
        checked: "read",
        source: PROMETHEUS_OPERATOR_BUILD,
    },
    "quay.io/prometheus-operator/prometheus-config-reloader:v0.93.1": {
        platforms: BOTH,
        checked: "read",
        source: PROMETHEUS_OPERATOR_BUILD,
    },
    "ghcr.io/jkroepke/kube-webhook-certgen:1.8.7": {
        platforms: BOTH,
        checked: "read",
        source: "https://github.com/jkroepke/kube-webhook-certgen/blob/main/.goreleaser.yaml (dockers_v2 platforms: linux/amd64, linux/arm64, linux/s390x)",
    },
    "docker.io/grafana/grafana:13.2.0": {
        platforms: BOTH,
        checked: "not-read",
        source: "https://grafana.com/docs/grafana/latest/setup-grafana/installation/docker/ (images for linux/amd64, linux/arm64, linux/arm/v7)",
    },
    "quay.io/kiwigrid/k8s-sidecar:2.10.1": {
        platforms: BOTH,
        checked: "read",
        source: "https://github.com/kiwigrid/k8s-sidecar/blob/master/docker-bake.hcl (platforms: linux/amd64, linux/arm64, linux/arm/v7, ...)",
    },
    "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.20.0": {
        platforms: BOTH,
        checked: "not-read",
        source: K8S_STAGING("kubernetes/kube-state-metrics"),
    },
    // Other charts.
    "quay.io/prometheus/pushgateway:v1.11.3": {
        platforms: BOTH,
        checked: "not-read",
        source: PROMETHEUS_BUILD("pushgateway"),
    },
    "registry.k8s.io/metrics-server/metrics-server:v0.8.0": {
        platforms: BOTH,
        checked: "not-read",
        source: K8S_STAGING("kubernetes-sigs/metrics-server"),
    },
    [`registry.k8s.io/autoscaling/cluster-autoscaler:${CLUSTER_AUTOSCALER_IMAGE_TAGS["1.34"]}`]: {
        platforms: BOTH,
        checked: "not-read",
        source: K8S_STAGING("kubernetes/autoscaler"),
    },
    "docker.io/envoyproxy/gateway:v1.9.3": {
        platforms: BOTH,
        checked: "read",
        source: "https://github.com/envoyproxy/gateway/blob/main/tools/make/image.mk (IMAGE_PLATFORMS ?= linux_amd64 linux_arm64)",
    },
    "docker.io/envoyproxy/envoy (distroless, the version gateway v1.9.3 defaults to)": {
        platforms: BOTH,
        checked: "read",
        source: "https://www.envoyproxy.io/docs/envoy/latest/start/install (pre-built images for amd64 and arm64)",
    },
    // Tekton releases (applied as published): every image of the release manifests, by name.
    [`ghcr.io/tektoncd/pipeline (controller, webhook, events, resolvers, entrypoint, nop, workingdirinit, sidecarlogresults) ${TEKTON.pipelines.version}`]:
        { platforms: BOTH, checked: "read", source: TEKTON_RELEASE("pipeline") },
    [`ghcr.io/tektoncd/triggers (controller, webhook, core-interceptors, eventlistenersink) ${TEKTON.triggers.version}`]:
        {
            platforms: BOTH,
            checked: "not-read",
            source: TEKTON_RELEASE("triggers"),
        },
    // EKS add-ons: AWS publishes each add-on version for both architectures of its EKS-optimized AMIs.
    "EKS add-ons: vpc-cni, coredns, kube-proxy (EKS defaults), aws-ebs-csi-driver": {
        platforms: BOTH,
        checked: "not-read",
        source: "https://docs.aws.amazon.com/eks/latest/userguide/eks-add-ons.html (add-ons run on Arm (Graviton) and x86 nodes)",
    },
};

/** Images each installed release runs on system nodes, keyed by `<chart>@<version>` (Tekton: `tekton-<part>@<version>`). */
export const RELEASE_SYSTEM_IMAGES: Readonly<Record<string, readonly string[]>> = {
    [`${CHARTS.kubePrometheusStack.chart}@${CHARTS.kubePrometheusStack.version}`]: [
        "quay.io/prometheus/prometheus:v3.14.0-distroless",
        "quay.io/prometheus/alertmanager:v0.34.0",
        "quay.io/prometheus/node-exporter:v1.12.1",
        "quay.io/prometheus-operator/prometheus-operator:v0.93.1",
        "quay.io/prometheus-operator/prometheus-config-reloader:v0.93.1",
        "ghcr.io/jkroepke/kube-webhook-certgen:1.8.7",
        "docker.io/grafana/grafana:13.2.0",
        "quay.io/kiwigrid/k8s-sidecar:2.10.1",
        "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.20.0",
    ],
    [`${CHARTS.prometheusPushgateway.chart}@${CHARTS.prometheusPushgateway.version}`]: [
        "quay.io/prometheus/pushgateway:v1.11.3",
    ],
    [`${CHARTS.metricsServer.chart}@${CHARTS.metricsServer.version}`]: [
        "registry.k8s.io/metrics-server/metrics-server:v0.8.0",
    ],
    [`${CHARTS.clusterAutoscaler.chart}@${CHARTS.clusterAutoscaler.version}`]: [
        `registry.k8s.io/autoscaling/cluster-autoscaler:${CLUSTER_AUTOSCALER_IMAGE_TAGS["1.34"]}`,
    ],
    [`${CHARTS.envoyGateway.chart}@${CHARTS.envoyGateway.version}`]: [
        "docker.io/envoyproxy/gateway:v1.9.3",
        "docker.io/envoyproxy/envoy (distroless, the version gateway v1.9.3 defaults to)",
    ],
    [`tekton-pipelines@${TEKTON.pipelines.version}`]: [
        `ghcr.io/tektoncd/pipeline (controller, webhook, events, resolvers, entrypoint, nop, workingdirinit, sidecarlogresults) ${TEKTON.pipelines.version}`,
    ],
    [`tekton-triggers@${TEKTON.triggers.version}`]: [
        `ghcr.io/tektoncd/triggers (controller, webhook, core-interceptors, eventlistenersink) ${TEKTON.triggers.version}`,
    ],
    [`eks-addons@${EKS_ADDONS.ebsCsiDriver.version}`]: [
        "EKS add-ons: vpc-cni, coredns, kube-proxy (EKS defaults), aws-ebs-csi-driver",
    ],
};

/**
 * Releases that run on GPU nodes only (their values require the GPU node label), so no arm64 system node runs them:
 * they need the GPU pools' architecture, which each pool's AMI already matches.
 */
export const GPU_ONLY_RELEASES: readonly string[] = [
    `${CHARTS.nvidiaDevicePlugin.chart}@${CHARTS.nvidiaDevicePlugin.version}`,
    `${CHARTS.dcgmExporter.chart}@${CHARTS.dcgmExporter.version}`,
];

/** Whether the publisher builds `image` for `platform`, per the table (undefined: the image is not in it). */
export function publishedFor(image: string, platform: ImagePlatform): boolean | undefined {
    // The step runtime in the stack's own registry: the testbed builds it for every platform of its manifest list.
    const tag = /:([^/:@]+)(@|$)/.exec(image.slice(image.lastIndexOf("/") + 1))?.[1] ?? "";
    if (TESTBED_BUILT_IMAGES.runtimeTag.test(tag))
        return Object.values(TESTBED_BUILT_IMAGES.platforms).some((p) => p.platform === platform);
    const entry = SYSTEM_IMAGE_PLATFORMS[image];
    return entry === undefined ? undefined : entry.platforms.includes(platform);
}
