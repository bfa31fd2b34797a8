/**
 * Every chart, release and image the testbed installs in a cluster, pinned in one place. Bumping a version is
 * a one-line change here plus `npm run facts` (docs/tests.md): the tests check the Helm values we set against the
 * value keys of the pinned chart, committed in test/facts/charts/<chart>-<version>.json.
 */
export const CHARTS = {
    nvidiaDevicePlugin: {
        chart: "nvidia-device-plugin",
        version: "0.20.0",
        repo: "https://nvidia.github.io/k8s-device-plugin",
    },
    kubePrometheusStack: {
        chart: "kube-prometheus-stack",
        version: "88.5.3",
        repo: "https://prometheus-community.github.io/helm-charts",
    },
    prometheusPushgateway: {
        chart: "prometheus-pushgateway",
        version: "3.8.0",
        repo: "https://prometheus-community.github.io/helm-charts",
    },
    dcgmExporter: {
        chart: "dcgm-exporter",
        version: "4.8.2",
        repo: "https://nvidia.github.io/dcgm-exporter/helm-charts",
    },
    clusterAutoscaler: {
        chart: "cluster-autoscaler",
        // 9.52.1 ships cluster-autoscaler 1.34.1, matching the default Kubernetes minor version.
        version: "9.52.1",
        repo: "https://kubernetes.github.io/autoscaler",
    },
    envoyGateway: {
        // OCI chart: `chart` is the full reference and there is no Helm repo URL. v1.9.3 (2026-10-03) bundles
        // Gateway API v1.6.1 CRDs and supports Kubernetes 1.33-1.36.
        chart: "oci://docker.io/envoyproxy/gateway-helm",
        version: "v1.9.3",
        repo: null,
        /** No values.yaml of v1.9.3 was available to derive facts from: its values are not key-checked. */
        valuesFacts: false,
    },
    metricsServer: {
        // Upstream kubernetes-sigs chart; 3.13.0 (2025-07) ships metrics-server v0.8.0. HPAs need it on EKS and on
        // existing clusters (AKS runs its own).
        chart: "metrics-server",
        version: "3.13.0",
        repo: "https://kubernetes-sigs.github.io/metrics-server/",
    },
    seaweedfs: {
        chart: "seaweedfs",
        version: "4.44.0",
        repo: "https://seaweedfs.github.io/seaweedfs/helm",
    },
} as const;

export type ChartName = keyof typeof CHARTS;

/** A chart at a version (a pinned chart or a subchart it ships). */
export interface ChartVersion {
    readonly chart: string;
    readonly version: string;
}

/**
 * Subcharts of a pinned chart whose values sit under their own key (`grafana:`, `kube-state-metrics:`, ...), at the
 * version the parent pins; the values-key test checks keys under them against both charts.
 */
export const SUBCHARTS: Partial<Record<ChartName, Readonly<Record<string, ChartVersion>>>> = {
    kubePrometheusStack: {
        grafana: { chart: "grafana", version: "12.11.1" },
        "kube-state-metrics": { chart: "kube-state-metrics", version: "8.4.0" },
        "prometheus-node-exporter": { chart: "prometheus-node-exporter", version: "4.56.1" },
    },
};

/** Name of a chart version's facts file: the chart's base name and version (`kube-prometheus-stack-88.5.3`). */
export const chartFactsName = (c: ChartVersion) => `${c.chart.split("/").pop()}-${c.version}`;

/**
 * Versions of the exporters whose series the dashboards and rules query, each with a facts file of series and
 * labels in test/facts/metrics/<exporter>-<version>.json: dcgm-exporter and the Tekton controller as pinned here,
 * kube-state-metrics and node-exporter as kube-prometheus-stack's subcharts ship them (app versions of charts 8.4.0
 * and 4.56.1), the kubelet/cAdvisor at the default Kubernetes minor version.
 */
export const EXPORTERS = {
    dcgmExporter: { exporter: "dcgm-exporter", version: "4.8.2" },
    tektonPipelines: { exporter: "tekton-pipelines-controller", version: "v1.15.4" },
    kubeStateMetrics: { exporter: "kube-state-metrics", version: "v2.20.0" },
    nodeExporter: { exporter: "node-exporter", version: "v1.12.1" },
    kubelet: { exporter: "kubelet", version: "1.34" },
    /** Series Prometheus itself writes per target, as kube-prometheus-stack 88.5.3 runs it. */
    prometheus: { exporter: "prometheus", version: "kps-88.5.3" },
    pushgateway: { exporter: "pushgateway", version: "v1.11.3" },
} as const;

/**
 * EKS add-ons the AWS platform installs, pinned (check `aws eks describe-addon-versions --addon-name <name>
 * --kubernetes-version <minor>` when bumping the cluster's minor version).
 * - aws-ebs-csi-driver: the EBS CSI driver every PersistentVolumeClaim on EKS needs (EKS 1.30+ ships no usable
 *   default class); v1.56.0 supports Kubernetes 1.30-1.34.
 */
export const EKS_ADDONS = {
    ebsCsiDriver: { name: "aws-ebs-csi-driver", version: "v1.56.0-eksbuild.1" },
} as const;

/**
 * cluster-autoscaler must match the Kubernetes minor version of the control plane; this table gives the
 * image tag per minor version the config accepts.
 */
export const CLUSTER_AUTOSCALER_IMAGE_TAGS: Readonly<Record<string, string>> = {
    "1.30": "v1.30.4",
    "1.31": "v1.31.2",
    "1.32": "v1.32.1",
    "1.33": "v1.33.0",
    "1.34": "v1.34.1",
};

/**
 * Tekton release manifests, applied as they are published. Pipelines v1.15.x is the LTS line whose metric names the
 * dashboards and rules use (test/facts/metrics/tekton-pipelines-controller-v1.15.4.json); v1.15.4 (2026-10-22) is its
 * latest patch. Triggers v0.37.x is the release built against Pipelines v1.15; v0.37.2 (2026-10-22) its latest patch.
 */
export const TEKTON = {
    pipelines: {
        version: "v1.15.4",
        manifests: ["https://infra.tekton.dev/tekton-releases/pipeline/previous/v1.15.4/release.yaml"],
        /** Namespace the release installs its controller into (fixed by the release manifest). */
        namespace: "tekton-pipelines",
    },
    triggers: {
        version: "v0.37.2",
        manifests: [
            "https://infra.tekton.dev/tekton-releases/triggers/previous/v0.37.2/release.yaml",
            "https://infra.tekton.dev/tekton-releases/triggers/previous/v0.37.2/interceptors.yaml",
        ],
    },
} as const;

/**
 * The images the testbed builds itself (the step runtime and the model servers on top of it): the platforms of their
 * manifest list with the wheel architecture pip fetches for each (pipelines/core/runtime.ts, COPY-only builds, no
 * emulation), and the step runtime's content tag ("runtime-" and 16 hex digits of its inputs' SHA-256).
 */
export const TESTBED_BUILT_IMAGES = {
    platforms: {
        amd64: { platform: "linux/amd64", wheelArch: "x86_64" },
        arm64: { platform: "linux/arm64", wheelArch: "aarch64" },
    },
    runtimeTag: /^runtime-[0-9a-f]{16}$/,
    /** What every runtime tag starts with (the registry's lifecycle keeps those images apart from model builds). */
    runtimeTagPrefix: "runtime-",
} as const;

/**
 * Images the testbed runs itself (outside a chart), pinned by tag. Public, maintained images only.
 * - seaweedfs: SeaweedFS 4.44, the app version of chart 4.44.0; runs `weed shell` in the store-identity Jobs.
 * - python: the base of the step runtime image (pipelines/core/runtime.ts: every Python step and the model-server
 *   image run on it, with the pinned packages of pipelines/workload and pipelines/lib built in once at install time)
 *   and the image of containers that need no pinned package (the runtime build's fetch and login, the dataset-change
 *   forwarders, the Pushgateway clean-up).
 * - git: clone of the model's source.
 * - buildah: builds and pushes the model-server image without a Docker daemon (kaniko is archived).
 * Kubernetes objects are applied by Python steps through the API (pipelines/lib/mlops_steps/kube.py), so no kubectl
 * image.
 */
export const IMAGES = {
    seaweedfs: "chrislusf/seaweedfs:4.44",
    python: "docker.io/library/python:3.12.12-slim-bookworm",
    git: "docker.io/alpine/git:2.49.1",
    buildah: "quay.io/containers/buildah:v1.41.5",
    /** The promotion step (pipelines/promotion): Node.js LTS; it needs nothing but Node's built-ins. */
    node: "docker.io/library/node:22.12.0-alpine3.21",
    /** The dataset-change consumer on AWS: long-polls SQS with the AWS CLI and forwards with curl. */
    awsCli: "docker.io/amazon/aws-cli:2.22.0",
} as const;

export type ImageName = keyof typeof IMAGES;
