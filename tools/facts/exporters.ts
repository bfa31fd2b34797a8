/**
 * Facts of the exporters the dashboards and rules query: series names and the labels each series carries, per
 * exporter version. Names come from the pinned upstream files where those exist (dcgm-exporter's
 * default-counters.csv, Tekton's metric list); labels come from the upstream source and docs at the pinned version,
 * cited beside each table, because no upstream data file lists them. `--check-docs` of tools/facts.ts compares the
 * tables with upstream docs a user has checked out.
 */
import { OBSERVABILITY } from "../../pipelines/install/tekton";

export interface MetricFacts {
    readonly exporter: string;
    readonly version: string;
    /** Upstream files and source the facts were derived from (never committed). */
    readonly derivedFrom: readonly string[];
    /** Series name -> labels the exporter puts on it (not the labels Prometheus adds when it scrapes). */
    readonly series: Readonly<Record<string, readonly string[]>>;
}

/** A histogram family's series: _bucket (with `le`), _sum and _count. */
function histogram(name: string, labels: readonly string[]): [string, string[]][] {
    return [
        [`${name}_bucket`, [...labels, "le"]],
        [`${name}_sum`, [...labels]],
        [`${name}_count`, [...labels]],
    ];
}

const sorted = (entries: [string, readonly string[]][]) =>
    Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, [...new Set(v)].sort()]));

/**
 * dcgm-exporter: every field of default-counters.csv that is not of type `label` is a gauge or counter series; the
 * `label` fields (DCGM_FI_DRIVER_VERSION) become labels of every series. Labels per series, from
 * internal/pkg/rendermetrics/render_metrics.go (gpu, UUID, pci_bus_id, device, modelName, GPU_I_PROFILE and
 * GPU_I_ID on MIG devices, Hostname) and internal/pkg/transformation/kubernetes.go (namespace, pod, container of
 * the workload holding the GPU) at tag 4.5.3-4.8.2; pod labels allowed by the chart's allowlist come on top, per
 * the project's values (not an upstream fact).
 */
export function dcgmFacts(csv: string, version: string, derivedFrom: string): MetricFacts {
    const rows = csv
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith("#"))
        .map((l) => l.split(",").map((c) => c.trim()));
    const labelFields = rows.filter((r) => r[1] === "label").map((r) => r[0]);
    const labels = [
        "gpu",
        "UUID",
        "pci_bus_id",
        "device",
        "modelName",
        "GPU_I_PROFILE",
        "GPU_I_ID",
        "Hostname",
        "namespace",
        "pod",
        "container",
        ...labelFields,
    ];
    return {
        exporter: "dcgm-exporter",
        version,
        derivedFrom: [
            derivedFrom,
            "NVIDIA/dcgm-exporter 4.5.3-4.8.2: internal/pkg/rendermetrics/render_metrics.go, internal/pkg/transformation/kubernetes.go",
        ],
        series: sorted(rows.filter((r) => r[1] !== "label").map((r) => [r[0], labels])),
    };
}

/** Label keys of config-observability levels (pkg/pipelinerunmetrics and pkg/taskrunmetrics, `*InsertTag`). */
const PIPELINERUN_LEVEL_LABELS: Record<string, string[]> = {
    pipelinerun: ["pipeline", "pipelinerun"],
    pipeline: ["pipeline"],
    namespace: [],
};
const TASKRUN_LEVEL_LABELS: Record<string, string[]> = { taskrun: ["task", "taskrun"], task: ["task"], namespace: [] };

/**
 * Tekton Pipelines controller at v1.15 (OpenTelemetry, Prometheus protocol): names from the metric list; labels from
 * pkg/pipelinerunmetrics/metrics.go and pkg/taskrunmetrics/metrics.go at v1.15.0 (unchanged on release-v1.15.x),
 * with the levels the project sets in config-observability (pipelines/install/tekton.ts OBSERVABILITY):
 * durations carry namespace, status and the level's labels (a TaskRun of a PipelineRun also the pipeline level's);
 * `*_total` counters only `status`; running gauges none at the default running level; throttle gauges none unless
 * `metrics.taskrun.throttle.enable-namespace`; pod latency namespace and the task level's labels. Every series
 * carries `otel_scope_name` (docs/metrics.md). Knative's workqueue series carry `name` (knative.dev/pkg workqueue).
 */
export function tektonFacts(names: readonly string[], version: string, derivedFrom: string): MetricFacts {
    const pr = PIPELINERUN_LEVEL_LABELS[OBSERVABILITY["metrics.pipelinerun.level"]];
    const tr = TASKRUN_LEVEL_LABELS[OBSERVABILITY["metrics.taskrun.level"]];
    const p = "tekton_pipelines_controller";
    const families: [string, readonly string[]][] = [
        ...histogram(`${p}_pipelinerun_duration_seconds`, ["namespace", "status", ...pr]),
        ...histogram(`${p}_pipelinerun_taskrun_duration_seconds`, ["namespace", "status", ...tr, ...pr]),
        ...histogram(`${p}_taskrun_duration_seconds`, ["namespace", "status", ...tr]),
        ...histogram(`${p}_taskruns_pod_latency_milliseconds`, ["namespace", ...tr]),
        [`${p}_pipelinerun_total`, ["status"]],
        [`${p}_taskrun_total`, ["status"]],
        [`${p}_running_pipelineruns`, []],
        [`${p}_running_taskruns`, []],
        [`${p}_running_taskruns_throttled_by_quota`, []],
        [`${p}_running_taskruns_throttled_by_node`, []],
        [`${p}_running_pipelineruns_waiting_on_pipeline_resolution`, []],
        [`${p}_running_pipelineruns_waiting_on_task_resolution`, []],
        [`${p}_running_taskruns_waiting_on_task_resolution_count`, []],
        ["kn_workqueue_adds_total", ["name"]],
        ["kn_workqueue_depth", ["name"]],
        ["kn_workqueue_retries_total", ["name"]],
        ["kn_workqueue_unfinished_work_seconds", ["name"]],
        ...histogram("kn_workqueue_queue_duration_seconds", ["name"]),
        ...histogram("kn_workqueue_process_duration_seconds", ["name"]),
    ];
    const labelled = new Map(families.map(([n, l]) => [n, [...l, "otel_scope_name"]]));
    const unknown = names.filter((n) => !labelled.has(n));
    if (unknown.length > 0) throw new Error(`Tekton series without a label table: ${unknown.join(", ")}`);
    return {
        exporter: "tekton-pipelines-controller",
        version,
        derivedFrom: [
            derivedFrom,
            "tektoncd/pipeline v1.15.0: pkg/pipelinerunmetrics/metrics.go, pkg/taskrunmetrics/metrics.go, docs/metrics.md",
        ],
        series: sorted(names.map((n) => [n, labelled.get(n)!])),
    };
}

/**
 * kube-state-metrics v2.20.0 (app version of chart 8.4.0, which kube-prometheus-stack 88.5.3 ships): the series the
 * dashboards and rules use, with the labels of docs/metrics/{cluster,workload,policy}/*-metrics.md at v2.20.0.
 * `kube_namespace_labels` and `kube_node_labels` add `label_<name>` per allowlisted Kubernetes label; the project's
 * allowlist (monitoring values) decides which, so the tests add those.
 */
export const KUBE_STATE_METRICS = {
    exporter: "kube-state-metrics",
    version: "v2.20.0",
    derivedFrom: ["kubernetes/kube-state-metrics v2.20.0: docs/metrics/*/*-metrics.md"],
    series: sorted([
        [
            "kube_node_info",
            [
                "node",
                "kernel_version",
                "os_image",
                "container_runtime_version",
                "kubelet_version",
                "kubeproxy_version",
                "pod_cidr",
                "provider_id",
                "system_uuid",
                "internal_ip",
            ],
        ],
        ["kube_node_labels", ["node"]],
        ["kube_node_status_capacity", ["node", "resource", "unit"]],
        ["kube_node_status_allocatable", ["node", "resource", "unit"]],
        ["kube_node_status_condition", ["node", "condition", "status"]],
        ["kube_namespace_labels", ["namespace"]],
        [
            "kube_pod_info",
            [
                "namespace",
                "pod",
                "uid",
                "host_ip",
                "pod_ip",
                "node",
                "created_by_kind",
                "created_by_name",
                "priority_class",
                "host_network",
            ],
        ],
        ["kube_pod_status_phase", ["namespace", "pod", "uid", "phase"]],
        ["kube_pod_container_resource_requests", ["namespace", "pod", "uid", "container", "node", "resource", "unit"]],
        ["kube_pod_container_resource_limits", ["namespace", "pod", "uid", "container", "node", "resource", "unit"]],
        ["kube_pod_container_status_restarts_total", ["namespace", "pod", "uid", "container"]],
        ["kube_pod_container_status_waiting_reason", ["namespace", "pod", "uid", "container", "reason"]],
        ["kube_resourcequota", ["namespace", "resourcequota", "resource", "type"]],
        ["kube_deployment_status_replicas_available", ["namespace", "deployment"]],
    ]),
} as const satisfies MetricFacts;

/**
 * node-exporter v1.12.1 (app version of chart 4.56.1): the series the dashboards use, labels from the collectors at
 * v1.12.1 (collector/cpu_linux.go: cpu, mode; collector/filesystem_common.go: device, mountpoint, fstype,
 * device_error; collector/netdev_common.go: device; meminfo and loadavg: none).
 */
export const NODE_EXPORTER = {
    exporter: "node-exporter",
    version: "v1.12.1",
    derivedFrom: ["prometheus/node_exporter v1.12.1: collector/{cpu_linux,filesystem_common,netdev_common}.go"],
    series: sorted([
        ["node_cpu_seconds_total", ["cpu", "mode"]],
        ["node_memory_MemAvailable_bytes", []],
        ["node_memory_MemTotal_bytes", []],
        ["node_filesystem_avail_bytes", ["device", "mountpoint", "fstype", "device_error"]],
        ["node_filesystem_size_bytes", ["device", "mountpoint", "fstype", "device_error"]],
        ["node_network_receive_bytes_total", ["device"]],
        ["node_network_transmit_bytes_total", ["device"]],
        ["node_load1", []],
    ]),
} as const satisfies MetricFacts;

/**
 * The kubelet's own metrics and its embedded cAdvisor (Kubernetes 1.34, the default `cluster.kubernetesVersion`):
 * container series carry id, name, image and the Kubernetes container, pod and namespace (cAdvisor's
 * container labels function in the kubelet, pkg/kubelet/server/server.go), network series also interface; volume
 * stats namespace and persistentvolumeclaim (pkg/kubelet/metrics/collectors/volume_stats.go).
 */
export const KUBELET = {
    exporter: "kubelet",
    version: "1.34",
    derivedFrom: ["kubernetes/kubernetes release-1.34: pkg/kubelet/server/server.go, pkg/kubelet/metrics"],
    series: sorted([
        ["container_cpu_usage_seconds_total", ["id", "name", "image", "container", "pod", "namespace"]],
        ["container_memory_working_set_bytes", ["id", "name", "image", "container", "pod", "namespace"]],
        ["container_memory_rss", ["id", "name", "image", "container", "pod", "namespace"]],
        [
            "container_network_receive_bytes_total",
            ["id", "name", "image", "container", "pod", "namespace", "interface"],
        ],
        [
            "container_network_transmit_bytes_total",
            ["id", "name", "image", "container", "pod", "namespace", "interface"],
        ],
        ["kubelet_running_pods", []],
        ["kubelet_volume_stats_used_bytes", ["namespace", "persistentvolumeclaim"]],
        ["kubelet_volume_stats_capacity_bytes", ["namespace", "persistentvolumeclaim"]],
    ]),
} as const satisfies MetricFacts;

/** Series Prometheus writes for every target: only the target's labels (docs: "Jobs and instances"). */
export const PROMETHEUS = {
    exporter: "prometheus",
    version: "kps-88.5.3",
    derivedFrom: ["prometheus/docs: content/docs/concepts/jobs_instances.md (automatically generated series)"],
    series: sorted([
        ["up", []],
        ["scrape_duration_seconds", []],
    ]),
} as const satisfies MetricFacts;

/** The Pushgateway's own series per group: the group's grouping labels only (README at v1.11.3). */
export const PUSHGATEWAY = {
    exporter: "pushgateway",
    version: "v1.11.3",
    derivedFrom: ["prometheus/pushgateway v1.11.3: README.md (push_time_seconds, push_failure_time_seconds)"],
    series: sorted([
        ["push_time_seconds", []],
        ["push_failure_time_seconds", []],
    ]),
} as const satisfies MetricFacts;

/** Rows `| name | ... `label`=... |` of an upstream metrics doc: series name -> labels (for --check-docs). */
export function labelsInMarkdown(markdown: string): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const line of markdown.split("\n")) {
        const m = /^\|\s*`?([a-z_][a-z0-9_]*)(?:_\[bucket, sum, count\])?`?\s*\|/.exec(line);
        if (!m) continue;
        // The labels column is the last cell naming `label`=<value> (kube-state-metrics has a unit column before it).
        const cells = line.split(/(?<!\\)\|/).filter((c) => /`\*?[a-z_][a-z0-9_]*`=/.test(c));
        const labels = [...(cells.pop() ?? "").matchAll(/`\*?([a-z_][a-z0-9_]*)`=/g)].map((l) => l[1]);
        out.set(m[1], labels);
    }
    return out;
}
