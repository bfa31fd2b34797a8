/**
 * Every chart, release and image the testbed installs in a cluster, pinned in one place. Bumping a version is
 * a one-line change here; the tests check the Helm values we set against the pinned chart's values.yaml
 * in ../shared/reference/charts/<chart>-<version>/ where that reference exists.
 */
export const CHARTS = {
    nvidiaDevicePlugin: {
        chart: "nvidia-device-plugin",
        version: "0.20.0",
        repo: "https://nvidia.github.io/k8s-device-plugin",
        referenceDir: "nvidia-device-plugin-0.20.0",
    },
    kubePrometheusStack: {
        chart: "kube-prometheus-stack",
        version: "88.5.3",
        repo: "https://prometheus-community.github.io/helm-charts",
        referenceDir: "kube-prometheus-stack-88.5.3",
    },
    prometheusPushgateway: {
        chart: "prometheus-pushgateway",
        version: "3.8.0",
        repo: "https://prometheus-community.github.io/helm-charts",
        referenceDir: "prometheus-pushgateway-3.8.0",
    },
    dcgmExporter: {
        chart: "dcgm-exporter",
        version: "4.8.2",
        repo: "https://nvidia.github.io/dcgm-exporter/helm-charts",
        referenceDir: "dcgm-exporter-4.8.2",
    },
    clusterAutoscaler: {
        chart: "cluster-autoscaler",
        // 9.52.1 ships cluster-autoscaler 1.34.1, matching the default Kubernetes minor version.
        version: "9.52.1",
        repo: "https://kubernetes.github.io/autoscaler",
        referenceDir: null,
    },
    envoyGateway: {
        // OCI chart: `chart` is the full reference and there is no Helm repo URL. v1.9.3 (2026-10-03) bundles
        // Gateway API v1.6.1 CRDs and supports Kubernetes 1.33-1.36.
        chart: "oci://docker.io/envoyproxy/gateway-helm",
        version: "v1.9.3",
        repo: null,
        referenceDir: null,
    },
    metricsServer: {
        // Upstream kubernetes-sigs chart; 3.13.0 (2025-07) ships metrics-server v0.8.0. HPAs need it on EKS and on
        // existing clusters (AKS runs its own).
        chart: "metrics-server",
        version: "3.13.0",
        repo: "https://kubernetes-sigs.github.io/metrics-server/",
        referenceDir: null,
    },
    seaweedfs: {
        chart: "seaweedfs",
        version: "4.44.0",
        repo: "https://seaweedfs.github.io/seaweedfs/helm",
        referenceDir: "seaweedfs-4.44.0",
    },
} as const;

export type ChartName = keyof typeof CHARTS;

/**
 * Subcharts of a pinned chart whose values sit under their own key (`grafana:`, `kube-state-metrics:`, ...), with
 * the reference directory of each; the values-key test checks keys under them against both charts.
 */
export const SUBCHARTS: Partial<Record<ChartName, Readonly<Record<string, string>>>> = {
    kubePrometheusStack: {
        grafana: "grafana-12.11.1",
        "kube-state-metrics": "kube-state-metrics-8.4.0",
        "prometheus-node-exporter": "prometheus-node-exporter-4.56.1",
    },
};

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
 * dashboards and rules use (../shared/reference/metrics/tekton-pipelines-v1.15.txt); v1.15.4 (2026-10-22) is its
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
 * Images the testbed runs itself (outside a chart), pinned by tag. Public, maintained images only.
 * - seaweedfs: SeaweedFS 4.44, the app version of chart 4.44.0; runs `weed shell` in the store-identity Jobs.
 * - python: the generic runtime of every Python step (training, evaluation, store access, metrics) and the base of
 *   the model-server image; packages come from pipelines/workload/requirements.txt, pinned.
 * - git: clone of the model's source.
 * - buildah: builds and pushes the model-server image without a Docker daemon (kaniko is archived).
 * Kubernetes objects are applied by Python steps through the API (pipelines/lib/kube.py), so no kubectl image.
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
