/**
 * A deterministic OpenMetrics fixture of a small study: task runs in every delivery mode (the per-run gauges the
 * pipelines and runbooks push, as Prometheus scrapes them from the Pushgateway), two serving model versions, and
 * the cluster, GPU and Tekton series the dashboards and rules read, shaped so that every alert fires.
 * The figures the report must print follow from RUNS and SERVING below.
 */
import { METRICS, NAMESPACE_LABELS, kubeStateLabel } from "../contract/metric-contract";

/** 2025-01-06T00:00:00Z; the fixture covers three hours from here, one sample a minute. */
export const T0 = 1736121600;
export const STEP = 60;
export const SPAN = 3 * 3600;
export const T_END = T0 + SPAN;
/** The report's window in the tests: the last two hours. */
export const WINDOW = { since: T_END - 2 * 3600, until: T_END };

export const MODEL = "iris";
const GIB = 1024 ** 3;

export interface FixtureRun {
    task: string;
    mode: string;
    run: string;
    /** Minutes after T0 the run ended (its gauges are scraped from then on). */
    endMin: number;
    /** One entry per version the run delivered. */
    versions: { version: string; leadTime: number; result: 0 | 1 }[];
    cpuSeconds: number;
    gpuSeconds: number;
    /** GiB held x seconds. */
    memoryGibSeconds: number;
    rollbacks: number;
    recoverySeconds?: number;
    /** Deliveries started at once, this one included (the study's scalability runs). */
    concurrency: number;
    /** Actions a person performed, and the seconds they spent (ease of deployment). */
    humanActions: number;
    handsOnSeconds: number;
}

/** Ease of deployment by mode, unless a run says otherwise: a push (automated, simplified) or the runbook's commands. */
const EASE: Record<string, { humanActions: number; handsOnSeconds: number }> = {
    automated: { humanActions: 1, handsOnSeconds: 60 },
    simplified: { humanActions: 1, handsOnSeconds: 120 },
    manual: { humanActions: 8, handsOnSeconds: 1800 },
};

const run = (
    task: string,
    mode: string,
    n: number,
    endMin: number,
    versions: FixtureRun["versions"],
    res: Partial<FixtureRun> = {},
): FixtureRun => ({
    task,
    mode,
    run: `${task}-${mode}-${n}`,
    endMin,
    versions,
    cpuSeconds: res.cpuSeconds ?? 1800,
    gpuSeconds: res.gpuSeconds ?? 0,
    memoryGibSeconds: res.memoryGibSeconds ?? 3600,
    rollbacks: res.rollbacks ?? 0,
    recoverySeconds: res.recoverySeconds,
    concurrency: res.concurrency ?? 1,
    humanActions: res.humanActions ?? EASE[mode].humanActions,
    handsOnSeconds: res.handsOnSeconds ?? EASE[mode].handsOnSeconds,
});
const ok = (version: string, leadTime: number) => ({ version, leadTime, result: 1 as const });
const failed = (version: string, leadTime: number) => ({ version, leadTime, result: 0 as const });

export const RUNS: FixtureRun[] = [
    // Ended 30 minutes after T0: before the window, so the report leaves it out.
    run("deploy-new-version", "automated", 0, 30, [ok("v1", 10000)]),
    run("deploy-new-version", "automated", 1, 70, [ok("v2", 300)], { gpuSeconds: 3600 }),
    run("deploy-new-version", "automated", 2, 80, [ok("v3", 360)], { gpuSeconds: 3600 }),
    // Two deliveries started at once (scalability).
    run("deploy-new-version", "automated", 3, 90, [ok("v4", 420)], { gpuSeconds: 3600, concurrency: 2 }),
    run("deploy-new-version", "automated", 4, 100, [failed("v5", 600)], {
        gpuSeconds: 3600,
        rollbacks: 1,
        concurrency: 2,
    }),
    // Before the window, the simplified mode delivered the slot v2 that the automated mode delivers again later:
    // one version slot delivered in two modes.
    run("deploy-new-version", "simplified", 0, 20, [ok("v2", 800)], { cpuSeconds: 3600, gpuSeconds: 3600 }),
    run("deploy-new-version", "simplified", 1, 75, [ok("v6", 900)], { cpuSeconds: 3600, gpuSeconds: 3600 }),
    run("deploy-new-version", "simplified", 2, 95, [ok("v7", 1500)], { cpuSeconds: 3600, gpuSeconds: 3600 }),
    run("deploy-new-version", "manual", 1, 85, [ok("v8", 3600)], {
        cpuSeconds: 5400,
        gpuSeconds: 7200,
        memoryGibSeconds: 7200,
    }),
    run("deploy-new-version", "manual", 2, 110, [failed("v9", 5400)], {
        cpuSeconds: 5400,
        gpuSeconds: 7200,
        memoryGibSeconds: 7200,
    }),
    run("deploy-new-version", "manual", 3, 150, [ok("v10", 7200)], {
        cpuSeconds: 5400,
        gpuSeconds: 7200,
        memoryGibSeconds: 7200,
    }),
    run("retrain-changed-data", "automated", 1, 120, [ok("v11", 1200)], { cpuSeconds: 7200, gpuSeconds: 5400 }),
    run("retrain-changed-data", "automated", 2, 130, [ok("v12", 1800)], { cpuSeconds: 7200, gpuSeconds: 9000 }),
    run("retrain-changed-data", "manual", 1, 140, [ok("v13", 9000)], { cpuSeconds: 10800, gpuSeconds: 14400 }),
    // Started by a drift alert: no person involved.
    run("rollback-bad-version", "automated", 1, 125, [ok("v2", 120)], {
        humanActions: 0,
        handsOnSeconds: 0,
        cpuSeconds: 60,
        memoryGibSeconds: 360,
        rollbacks: 1,
        recoverySeconds: 120,
    }),
    run("rollback-bad-version", "automated", 2, 135, [ok("v3", 180)], {
        humanActions: 0,
        handsOnSeconds: 0,
        cpuSeconds: 60,
        memoryGibSeconds: 360,
        rollbacks: 1,
        recoverySeconds: 180,
    }),
    run("rollback-bad-version", "manual", 1, 145, [ok("v8", 1500)], {
        cpuSeconds: 300,
        memoryGibSeconds: 360,
        rollbacks: 1,
        recoverySeconds: 1500,
    }),
    run("side-by-side", "automated", 1, 160, [ok("v2", 400), ok("v3", 500), ok("v4", 600)], { cpuSeconds: 900 }),
    run("recover-failed-deployment", "automated", 1, 165, [ok("v4", 240)], {
        cpuSeconds: 600,
        rollbacks: 1,
        recoverySeconds: 240,
    }),
    run("recover-failed-deployment", "manual", 1, 170, [failed("v10", 3000)], { cpuSeconds: 1200, rollbacks: 0 }),
    // The scalability task: one model alone, then two at once (one of them failed), automated; one manual alone. Only
    // these make the scalability table: runs 3 and 4 above also ran two at once but deployed one new version.
    run("deliver-several-models", "automated", 1, 172, [ok("v4", 240)]),
    run("deliver-several-models", "automated", 2, 174, [ok("v3", 450)], { concurrency: 2, humanActions: 0.5 }),
    run("deliver-several-models", "automated", 3, 174, [failed("v5", 600)], { concurrency: 2, humanActions: 0.5 }),
    run("deliver-several-models", "manual", 1, 176, [ok("v8", 2400)]),
];

/** Held-out evaluation accuracy of each delivered version. */
export const EVALUATION_ACCURACY: Record<string, number> = {
    v1: 0.9,
    v2: 0.95,
    v3: 0.96,
    v4: 0.94,
    v5: 0.7,
    v6: 0.93,
    v7: 0.95,
    v8: 0.92,
    v9: 0.6,
    v10: 0.9,
    v11: 0.97,
    v12: 0.99,
    v13: 0.96,
};

const LATENCY_BUCKETS = METRICS.requestDuration.buckets;

export interface Serving {
    version: string;
    /** Requests a minute, all answered. */
    okPerMinute: number;
    errorsPerMinute: number;
    /** Cumulative share of requests at or under each bucket bound (then 1 for larger bounds). */
    latencyShare: Record<number, number>;
    accuracy: number;
    drift: Record<string, number>;
}

export const SERVING: Serving[] = [
    // p95 latency 0.25 + (0.95 - 0.9) / 0.1 x 0.25 = 375 ms; error rate 2 / 100.
    {
        version: "v2",
        okPerMinute: 98,
        errorsPerMinute: 2,
        latencyShare: { 0.005: 0, 0.01: 0, 0.025: 0, 0.05: 0.5, 0.1: 0.8, 0.25: 0.9, 0.5: 1 },
        accuracy: 0.94,
        drift: { petal_length: 0.05, sepal_width: 0.12 },
    },
    // p95 latency 0.5 + (0.95 - 0.9) / 0.1 x 0.5 = 750 ms; error rate 10 / 100; accuracy and drift over the alert thresholds.
    {
        version: "v8",
        okPerMinute: 90,
        errorsPerMinute: 10,
        latencyShare: { 0.005: 0, 0.01: 0, 0.025: 0, 0.05: 0.2, 0.1: 0.6, 0.25: 0.8, 0.5: 0.9, 1: 1 },
        accuracy: 0.87,
        drift: { petal_length: 0.41, sepal_width: 0.2 },
    },
];

type Labels = Record<string, string>;
interface Series {
    name: string;
    labels: Labels;
    /** Value at minute m after T0, or undefined for no sample. */
    at: (m: number) => number | undefined;
}

const ns = (version: string) => `${MODEL}-${version}`;
const MINUTES = SPAN / STEP;
const gauge =
    (value: number, fromMin = 0) =>
    (m: number) =>
        m >= fromMin ? value : undefined;
const counter = (perMinute: number) => (m: number) => perMinute * m;

function runSeries(): Series[] {
    const out: Series[] = [];
    for (const r of RUNS) {
        const base = (version: string): Labels => ({
            model: MODEL,
            version,
            namespace: ns(version),
            mode: r.mode,
            task: r.task,
            run: r.run,
        });
        // Every sample of the report step carries the run's concurrency; the stage durations do not.
        const sample = (version: string): Labels => ({ ...base(version), concurrency: String(r.concurrency) });
        const first = sample(r.versions[0].version);
        for (const v of r.versions) {
            out.push({ name: METRICS.deployLeadTime.name, labels: sample(v.version), at: gauge(v.leadTime, r.endMin) });
            out.push({ name: METRICS.deliveryResult.name, labels: sample(v.version), at: gauge(v.result, r.endMin) });
            out.push({
                name: METRICS.deliveryEnd.name,
                labels: sample(v.version),
                at: gauge(T0 + r.endMin * 60, r.endMin),
            });
            out.push({
                name: METRICS.stageDuration.name,
                labels: { ...base(v.version), pipeline: "deliver", stage: "deploy" },
                at: gauge(v.leadTime / 2, r.endMin),
            });
        }
        // Resources and rollbacks are pushed once per run.
        out.push({ name: METRICS.deliveryCpuSeconds.name, labels: first, at: gauge(r.cpuSeconds, r.endMin) });
        out.push({ name: METRICS.deliveryGpuSeconds.name, labels: first, at: gauge(r.gpuSeconds, r.endMin) });
        out.push({
            name: METRICS.deliveryMemoryByteSeconds.name,
            labels: first,
            at: gauge(r.memoryGibSeconds * GIB, r.endMin),
        });
        out.push({ name: METRICS.deliveryRollbacks.name, labels: first, at: gauge(r.rollbacks, r.endMin) });
        out.push({ name: METRICS.deliveryHumanActions.name, labels: first, at: gauge(r.humanActions, r.endMin) });
        out.push({
            name: METRICS.deliveryHandsOnSeconds.name,
            labels: first,
            at: gauge(r.handsOnSeconds, r.endMin),
        });
        if (r.recoverySeconds !== undefined)
            out.push({ name: METRICS.recoveryTime.name, labels: first, at: gauge(r.recoverySeconds, r.endMin) });
        if (r.rollbacks > 0) {
            const { task: _t, run: _r, concurrency: _c, ...versionLabels } = first;
            out.push({
                name: METRICS.lastRollback.name,
                labels: versionLabels,
                at: gauge(T0 + r.endMin * 60, r.endMin),
            });
        }
    }
    const modeOf = new Map(RUNS.flatMap((r) => r.versions.map((v) => [v.version, r.mode] as const)));
    for (const [version, accuracy] of Object.entries(EVALUATION_ACCURACY)) {
        const labels = {
            model: MODEL,
            version,
            namespace: ns(version),
            dataset_version: "d1",
            mode: modeOf.get(version)!,
        };
        out.push({ name: METRICS.evaluationAccuracy.name, labels, at: gauge(accuracy, 10) });
        out.push({ name: METRICS.trainingAccuracy.name, labels, at: gauge(Math.min(1, accuracy + 0.02), 10) });
        out.push({ name: METRICS.datasetInfo.name, labels, at: gauge(1, 10) });
    }
    return out;
}

function servingSeries(): Series[] {
    const out: Series[] = [];
    for (const s of SERVING) {
        const mvn = { model: MODEL, version: s.version, namespace: ns(s.version) };
        const total = s.okPerMinute + s.errorsPerMinute;
        out.push({ name: METRICS.requests.name, labels: { ...mvn, code: "200" }, at: counter(s.okPerMinute) });
        out.push({ name: METRICS.requests.name, labels: { ...mvn, code: "500" }, at: counter(s.errorsPerMinute) });
        out.push({ name: METRICS.requestErrors.name, labels: mvn, at: counter(s.errorsPerMinute) });
        for (const le of LATENCY_BUCKETS)
            out.push({
                name: `${METRICS.requestDuration.name}_bucket`,
                labels: { ...mvn, le: String(le) },
                at: counter(total * (s.latencyShare[le] ?? 1)),
            });
        out.push({
            name: `${METRICS.requestDuration.name}_bucket`,
            labels: { ...mvn, le: "+Inf" },
            at: counter(total),
        });
        out.push({ name: `${METRICS.requestDuration.name}_count`, labels: mvn, at: counter(total) });
        out.push({ name: `${METRICS.requestDuration.name}_sum`, labels: mvn, at: counter(total * 0.1) });
        out.push({ name: METRICS.predictionAccuracy.name, labels: mvn, at: gauge(s.accuracy) });
        out.push({ name: METRICS.feedback.name, labels: mvn, at: counter(5) });
        for (const [feature, score] of Object.entries(s.drift))
            out.push({ name: METRICS.dataDrift.name, labels: { ...mvn, feature }, at: gauge(score) });
    }
    return out;
}

export const GPU_NODES = ["gpu-node-1", "gpu-node-2"];

/** What kube-state-metrics, cAdvisor, node-exporter, dcgm-exporter and Tekton export for the serving versions. */
function clusterSeries(): Series[] {
    const out: Series[] = [];
    const nodes = ["system-1", ...GPU_NODES];
    for (const node of nodes) {
        const gpu = node.startsWith("gpu");
        out.push({ name: "kube_node_info", labels: { node }, at: gauge(1) });
        for (const [resource, unit, value] of [
            ["cpu", "core", 4],
            ["memory", "byte", 16 * GIB],
            ["nvidia_com_gpu", "integer", gpu ? 1 : 0],
        ] as const) {
            out.push({ name: "kube_node_status_capacity", labels: { node, resource, unit }, at: gauge(value) });
            out.push({ name: "kube_node_status_allocatable", labels: { node, resource, unit }, at: gauge(value) });
        }
        const instance = `${node}:9100`;
        out.push({ name: "node_cpu_seconds_total", labels: { instance, cpu: "0", mode: "idle" }, at: counter(30) });
        out.push({ name: "node_cpu_seconds_total", labels: { instance, cpu: "0", mode: "user" }, at: counter(30) });
        out.push({ name: "node_memory_MemTotal_bytes", labels: { instance }, at: gauge(16 * GIB) });
        out.push({ name: "node_memory_MemAvailable_bytes", labels: { instance }, at: gauge(8 * GIB) });
    }
    SERVING.forEach((s, i) => {
        const namespace = ns(s.version);
        const pod = `model-server-${s.version}-0`;
        const node = GPU_NODES[0];
        out.push({
            name: "kube_namespace_labels",
            labels: {
                namespace,
                [kubeStateLabel(NAMESPACE_LABELS.model)]: MODEL,
                [kubeStateLabel(NAMESPACE_LABELS.version)]: s.version,
            },
            at: gauge(1),
        });
        out.push({ name: "kube_pod_status_phase", labels: { namespace, pod, phase: "Running" }, at: gauge(1) });
        for (const [resource, unit, value] of [
            ["cpu", "core", 1],
            ["memory", "byte", 2 * GIB],
            ["nvidia_com_gpu", "integer", i === 0 ? 1 : 0],
        ] as const) {
            out.push({
                name: "kube_pod_container_resource_requests",
                labels: { namespace, pod, container: "server", node, resource, unit },
                at: gauge(value),
            });
        }
        out.push({
            name: "kube_pod_container_status_restarts_total",
            labels: { namespace, pod, container: "server" },
            at: counter(i === 1 ? 0.1 : 0),
        });
        // The second version's server crash-loops (ModelPodCrashLooping fires).
        out.push({
            name: "kube_pod_container_status_waiting_reason",
            labels: { namespace, pod, container: "server", reason: "CrashLoopBackOff" },
            at: gauge(i === 1 ? 1 : 0),
        });
        out.push({
            name: "container_cpu_usage_seconds_total",
            labels: { namespace, pod, container: "server", image: "registry/model-server:1" },
            at: counter(30),
        });
        out.push({
            name: "container_memory_working_set_bytes",
            labels: { namespace, pod, container: "server", image: "registry/model-server:1" },
            at: gauge(GIB),
        });
        for (const [resource, hard, used] of [
            ["requests.cpu", 2, 1],
            ["requests.memory", 8 * GIB, 2 * GIB],
            ["pods", 10, i === 1 ? 10 : 1],
        ] as const) {
            // The second version uses all its pods quota (ModelQuotaNearlyExhausted fires).
            out.push({
                name: "kube_resourcequota",
                labels: { namespace, resourcequota: "model-version", resource, type: "hard" },
                at: gauge(hard),
            });
            out.push({
                name: "kube_resourcequota",
                labels: { namespace, resourcequota: "model-version", resource, type: "used" },
                at: gauge(used),
            });
        }
    });
    // One GPU busy serving the first version; the other node's GPU idle (GpuNodeIdle fires).
    GPU_NODES.forEach((node, i) => {
        const busy = i === 0;
        const labels: Labels = {
            gpu: "0",
            UUID: `GPU-${i}`,
            Hostname: node,
            node,
            modelName: "Tesla T4",
            ...(busy
                ? {
                      namespace: ns(SERVING[0].version),
                      pod: `model-server-${SERVING[0].version}-0`,
                      container: "server",
                  }
                : {}),
        };
        out.push({ name: "DCGM_FI_DEV_GPU_UTIL", labels, at: gauge(busy ? 60 : 0) });
        out.push({ name: "DCGM_FI_DEV_FB_USED", labels, at: gauge(busy ? 4096 : 0) });
        out.push({ name: "DCGM_FI_DEV_FB_FREE", labels, at: gauge(busy ? 11264 : 15360) });
        out.push({ name: "DCGM_FI_DEV_POWER_USAGE", labels, at: gauge(busy ? 55 : 12) });
        out.push({ name: "DCGM_FI_DEV_GPU_TEMP", labels, at: gauge(busy ? 61 : 35) });
        out.push({ name: "DCGM_FI_DEV_XID_ERRORS", labels, at: gauge(0) });
    });
    const tekton = { namespace: "pipelines" };
    // Finished runs are counted by the duration histogram's _count (pipeline, namespace, status); the controller's
    // pipelinerun_total carries only status.
    for (const status of ["success", "failed"])
        out.push({ name: "tekton_pipelines_controller_pipelinerun_total", labels: { status }, at: counter(0.1) });
    for (const pipeline of ["deliver", "retrain"]) {
        out.push({
            name: "tekton_pipelines_controller_pipelinerun_duration_seconds_count",
            labels: { ...tekton, pipeline, status: "success" },
            at: counter(0.1),
        });
        // deliver has failed runs (PipelineRunsFailing fires).
        out.push({
            name: "tekton_pipelines_controller_pipelinerun_duration_seconds_count",
            labels: { ...tekton, pipeline, status: "failed" },
            at: counter(pipeline === "deliver" ? 0.05 : 0),
        });
        for (const le of ["60", "300", "900", "+Inf"]) {
            const share = { "60": 0.1, "300": 0.6, "900": 1, "+Inf": 1 }[le]!;
            out.push({
                name: "tekton_pipelines_controller_pipelinerun_duration_seconds_bucket",
                labels: { ...tekton, pipeline, status: "success", le },
                at: counter(0.1 * share),
            });
            out.push({
                name: "tekton_pipelines_controller_pipelinerun_taskrun_duration_seconds_bucket",
                labels: { ...tekton, pipeline, task: "train", status: "success", le },
                at: counter(0.1 * share),
            });
        }
    }
    for (const name of [
        "running_pipelineruns",
        "running_taskruns",
        "running_taskruns_throttled_by_quota",
        "running_taskruns_throttled_by_node",
    ]) {
        out.push({
            name: `tekton_pipelines_controller_${name}`,
            labels: {},
            at: gauge(name === "running_pipelineruns" ? 1 : name === "running_taskruns" ? 2 : 0),
        });
    }
    return out;
}

export function fixtureSeries(): Series[] {
    return [...runSeries(), ...servingSeries(), ...clusterSeries()];
}

function labelText(labels: Labels): string {
    const entries = Object.entries(labels);
    if (entries.length === 0) return "";
    return `{${entries.map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`).join(",")}}`;
}

/** The fixture as OpenMetrics text for `promtool tsdb create-blocks-from openmetrics`: samples grouped by metric, in time order. */
export function fixtureOpenMetrics(): string {
    const byName = new Map<string, Series[]>();
    for (const s of fixtureSeries()) byName.set(s.name, [...(byName.get(s.name) ?? []), s]);
    const lines: string[] = [];
    for (const [name, series] of byName) {
        lines.push(`# TYPE ${name} unknown`);
        for (const s of series) {
            const l = labelText(s.labels);
            for (let m = 0; m <= MINUTES; m++) {
                const v = s.at(m);
                if (v !== undefined) lines.push(`${name}${l} ${v} ${T0 + m * STEP}`);
            }
        }
    }
    lines.push("# EOF");
    return lines.join("\n") + "\n";
}
