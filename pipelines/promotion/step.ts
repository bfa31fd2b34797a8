/**
 * The promotion step as it runs in the cluster: a Node script (this file and decide.ts, transpiled on their own
 * into the step's ConfigMap; see task.ts) in a pinned node image. It puts the first step's weights on the model's
 * HTTPRoute, then between analyses queries Prometheus for the candidate and the baseline, asks `decide` what to
 * do and does it: new weights, hold, promote (exit 0) or roll back (weights to the baseline, the rollback
 * metric pushed, exit 1 so the run fails).
 *
 * Only node: built-ins and ./decide are imported at run time: nothing else is shipped.
 */
import { readFileSync, writeFileSync } from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import {
    type Decision,
    type PromotionState,
    type PromotionThresholds,
    STRATEGIES,
    type Strategy,
    type VersionSample,
    type Weights,
    decide,
    stepProblems,
    stepsFor,
} from "./decide";

/** Replaced with a version's namespace in every query template. */
export const NAMESPACE_PLACEHOLDER = "__NAMESPACE__";

export interface VersionRef {
    readonly version: string;
    /** The version's namespace: the `namespace` label of its metrics and of its backend on the route. */
    readonly namespace: string;
}

export interface StepConfig {
    readonly prometheusUrl: string;
    readonly pushgatewayUrl: string;
    readonly model: string;
    /** Delivery mode label of the rollback metric (automated, simplified, manual). */
    readonly mode: string;
    readonly candidate: VersionRef;
    readonly baseline: VersionRef;
    readonly strategy: Strategy;
    readonly steps: readonly number[];
    /** Seconds between putting weights in place and analysing them (at least the rules' rate window to be meaningful). */
    readonly intervalSeconds: number;
    readonly thresholds: PromotionThresholds;
    /** PromQL per sample field, with NAMESPACE_PLACEHOLDER. */
    readonly queries: Readonly<Record<keyof VersionSample, string>>;
    /** Where the model's HTTPRoute lives and its name (the model's entry in the settings' MODEL_ROUTES). */
    readonly route: { readonly namespace: string; readonly name: string };
    /** Metric name of the last-rollback timestamp (from the metric contract). */
    readonly rollbackMetric: string;
}

/** What the step does to the outside world; main() wires the real one. */
export interface StepIo {
    query(promql: string): Promise<number | null>;
    setWeights(byNamespace: Readonly<Record<string, number>>): Promise<void>;
    pushRollback(timestampSeconds: number): Promise<void>;
    sleep(seconds: number): Promise<void>;
    log(line: string): void;
    now(): number;
}

const SAMPLE_FIELDS = [
    "requestRate",
    "errorRatio",
    "latencyP95",
    "accuracy",
] as const satisfies readonly (keyof VersionSample)[];

export function forNamespace(template: string, namespace: string): string {
    return template.split(NAMESPACE_PLACEHOLDER).join(namespace);
}

async function sample(cfg: StepConfig, io: StepIo, namespace: string): Promise<VersionSample> {
    const values = await Promise.all(SAMPLE_FIELDS.map((f) => io.query(forNamespace(cfg.queries[f], namespace))));
    return Object.fromEntries(SAMPLE_FIELDS.map((f, i) => [f, values[i]])) as unknown as VersionSample;
}

function weightsByNamespace(cfg: StepConfig, w: Weights): Record<string, number> {
    return { [cfg.candidate.namespace]: w.candidate, [cfg.baseline.namespace]: w.baseline };
}

/** The rollout loop: returns the terminal decision (promote or rollback). */
export async function runPromotion(cfg: StepConfig, io: StepIo): Promise<Decision> {
    const problems = stepProblems(cfg.strategy, cfg.steps);
    if (problems.length > 0) throw new Error(`invalid steps for ${cfg.strategy}: ${problems.join("; ")}`);
    // A shadow is mirrored by the route as configured; its live weight stays 0 and the route is never touched.
    const moves = cfg.strategy !== "shadow";
    let state: PromotionState = { strategy: cfg.strategy, steps: cfg.steps, step: 0, missing: 0 };
    if (moves) await io.setWeights(weightsByNamespace(cfg, { candidate: cfg.steps[0], baseline: 100 - cfg.steps[0] }));
    io.log(
        `${cfg.model}: ${cfg.strategy} of ${cfg.candidate.version} against ${cfg.baseline.version}, steps [${cfg.steps.join(", ")}]`,
    );
    for (;;) {
        await io.sleep(cfg.intervalSeconds);
        const [candidate, baseline] = await Promise.all([
            sample(cfg, io, cfg.candidate.namespace),
            sample(cfg, io, cfg.baseline.namespace),
        ]);
        const d = decide(state, candidate, baseline, cfg.thresholds);
        io.log(`${d.action}: ${d.reason}`);
        // promote keeps the last step's weights (100 for canary and blue-green), so only these two move traffic.
        if (moves && (d.action === "advance" || d.action === "rollback")) {
            await io.setWeights(weightsByNamespace(cfg, d.weights));
        }
        if (d.action === "rollback") {
            await io.pushRollback(Math.floor(io.now() / 1000));
            return d;
        }
        if (d.action === "promote") return d;
        state = d.next;
    }
}

/** The value of an instant-vector query's only series, or null when there is none (or it is not a number). */
export function queryValue(body: unknown): number | null {
    const data =
        (body as { status?: string; data?: { resultType?: string; result?: { value?: [number, string] }[] } }) ?? {};
    if (data.status !== "success") throw new Error(`Prometheus query failed: ${JSON.stringify(body).slice(0, 300)}`);
    const result = data.data?.result ?? [];
    if (result.length === 0) return null;
    if (result.length > 1) throw new Error(`query returned ${result.length} series; expected one`);
    const v = Number(result[0].value?.[1]);
    return Number.isFinite(v) ? v : null;
}

interface BackendRef {
    namespace?: string;
    weight?: number;
    [k: string]: unknown;
}
interface RouteRule {
    backendRefs?: BackendRef[];
    [k: string]: unknown;
}

/**
 * A route's rules with the given weight on each backend whose namespace is listed and 0 on every other one
 * (other versions of the model stop serving). Fails when a listed namespace has no backend on the route.
 */
export function rulesWithWeights(
    rules: readonly RouteRule[],
    byNamespace: Readonly<Record<string, number>>,
): RouteRule[] {
    const seen = new Set<string>();
    const out = rules.map((rule) => ({
        ...rule,
        backendRefs: (rule.backendRefs ?? []).map((ref) => {
            const w = ref.namespace !== undefined ? byNamespace[ref.namespace] : undefined;
            if (w !== undefined) seen.add(ref.namespace!);
            return { ...ref, weight: w ?? 0 };
        }),
    }));
    const absent = Object.keys(byNamespace).filter((ns) => !seen.has(ns));
    if (absent.length > 0)
        throw new Error(
            `the route has no backend in ${absent.join(", ")}; add the version to the model's config (models[].versions) and run pulumi up`,
        );
    return out;
}

/** Pushgateway body of the rollback metric (text exposition format). */
export function rollbackExposition(metric: string, namespace: string, timestampSeconds: number): string {
    return `# TYPE ${metric} gauge\n${metric}{namespace="${namespace}"} ${timestampSeconds}\n`;
}

/** Pushgateway grouping path: job promotion, grouped by model, version and mode like every batch step's metrics. */
export function pushPath(model: string, version: string, mode: string): string {
    return `/metrics/job/promotion/model/${encodeURIComponent(model)}/version/${encodeURIComponent(version)}/mode/${encodeURIComponent(mode)}`;
}

/** Reads the step's configuration from the environment the Task sets. */
export function configFromEnv(env: NodeJS.ProcessEnv): StepConfig {
    const need = (key: string): string => {
        const v = env[key];
        if (v === undefined || v === "") throw new Error(`environment variable ${key} is not set`);
        return v;
    };
    const strategy = need("STRATEGY") as Strategy;
    if (!STRATEGIES.includes(strategy))
        throw new Error(`STRATEGY ${strategy} has no progressive promotion; one of ${STRATEGIES.join(", ")}`);
    return {
        prometheusUrl: need("PROMETHEUS_URL"),
        pushgatewayUrl: need("PUSHGATEWAY_URL"),
        model: need("MODEL"),
        mode: need("MODE"),
        candidate: { version: need("CANDIDATE_VERSION"), namespace: need("CANDIDATE_NAMESPACE") },
        baseline: { version: need("BASELINE_VERSION"), namespace: need("BASELINE_NAMESPACE") },
        strategy,
        steps: stepsFor(strategy, JSON.parse(need("CANARY_STEPS")) as number[], Number(need("SHADOW_ANALYSES"))),
        intervalSeconds: Number(need("INTERVAL_SECONDS")),
        thresholds: JSON.parse(need("THRESHOLDS")) as PromotionThresholds,
        queries: JSON.parse(need("QUERIES")) as StepConfig["queries"],
        route: { namespace: need("ROUTE_NAMESPACE"), name: routeNameOf(need("MODEL_ROUTES"), need("MODEL")) },
        rollbackMetric: need("ROLLBACK_METRIC"),
    };
}

/** The name of a model's HTTPRoute from MODEL_ROUTES (JSON: model → route name). */
export function routeNameOf(modelRoutes: string, model: string): string {
    const routes = JSON.parse(modelRoutes) as Record<string, string>;
    const name = routes[model];
    if (!name)
        throw new Error(
            `model ${model} has no route (${Object.keys(routes).join(", ") || "no models"} have); add it to mlops-testbed:models and run pulumi up`,
        );
    return name;
}

const SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** Where and how the step reaches the Kubernetes API. */
export interface KubeConnection {
    /** Base URL of the API server (https:// in a cluster; http:// only for a loopback test server). */
    readonly server: string;
    /** Bearer token. */
    readonly token: string;
    /** CA bundle to verify the server with (PEM); absent: the system's. */
    readonly ca?: Buffer | string;
    /** Skip TLS verification (a kubeconfig's insecure-skip-tls-verify). */
    readonly insecure?: boolean;
}

interface Kubeconfig {
    "current-context"?: string;
    contexts?: { name: string; context: { cluster: string; user: string } }[];
    clusters?: {
        name: string;
        cluster: {
            server: string;
            "certificate-authority-data"?: string;
            "certificate-authority"?: string;
            "insecure-skip-tls-verify"?: boolean;
        };
    }[];
    users?: { name: string; user: { token?: string; tokenFile?: string } }[];
}

/**
 * How the step reaches the API, as client-go and `kubernetes.config.load_config()` decide: with KUBECONFIG set, its
 * current context (the file in JSON, a valid kubeconfig form, since only Node's built-ins ship with the step:
 * `kubectl config view --raw --minify -o json`; token or tokenFile credentials); else in-cluster, the pod's
 * service-account token and CA and KUBERNETES_SERVICE_HOST/PORT.
 */
export function kubeConnection(env: NodeJS.ProcessEnv): KubeConnection {
    const path = env.KUBECONFIG;
    if (path) {
        let cfg: Kubeconfig;
        try {
            cfg = JSON.parse(readFileSync(path, "utf8")) as Kubeconfig;
        } catch (err) {
            throw new Error(
                `KUBECONFIG ${path}: the promotion step reads a JSON kubeconfig (kubectl config view --raw --minify -o json): ${(err as Error).message}`,
                { cause: err },
            );
        }
        const ctx = cfg.contexts?.find((c) => c.name === cfg["current-context"])?.context;
        const cluster = cfg.clusters?.find((c) => c.name === ctx?.cluster)?.cluster;
        const user = cfg.users?.find((u) => u.name === ctx?.user)?.user;
        if (!ctx || !cluster || !user) throw new Error(`KUBECONFIG ${path}: no complete current context`);
        const bearer = user.token ?? (user.tokenFile ? readFileSync(user.tokenFile, "utf8").trim() : undefined);
        if (!bearer) throw new Error(`KUBECONFIG ${path}: the current user has no token or tokenFile`);
        const ca = cluster["certificate-authority-data"]
            ? Buffer.from(cluster["certificate-authority-data"], "base64")
            : cluster["certificate-authority"]
              ? readFileSync(cluster["certificate-authority"])
              : undefined;
        return { server: cluster.server, token: bearer, ca, insecure: cluster["insecure-skip-tls-verify"] === true };
    }
    const host = env.KUBERNETES_SERVICE_HOST;
    const port = env.KUBERNETES_SERVICE_PORT;
    if (!host || !port) throw new Error("not in a cluster (no KUBERNETES_SERVICE_HOST/PORT) and no KUBECONFIG");
    return {
        server: `https://${host.includes(":") ? `[${host}]` : host}:${port}`,
        token: readFileSync(`${SA_DIR}/token`, "utf8").trim(),
        ca: readFileSync(`${SA_DIR}/ca.crt`),
    };
}

function kubeRequest(
    conn: KubeConnection,
    method: string,
    path: string,
    body?: unknown,
    contentType = "application/json",
): Promise<unknown> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const url = new URL(path, conn.server);
    const client = url.protocol === "http:" ? http : https;
    return new Promise((resolve, reject) => {
        const req = client.request(
            url,
            {
                method,
                ca: conn.ca,
                rejectUnauthorized: !conn.insecure,
                headers: {
                    Authorization: `Bearer ${conn.token}`,
                    Accept: "application/json",
                    ...(payload ? { "Content-Type": contentType } : {}),
                },
            },
            (res) => {
                let text = "";
                res.setEncoding("utf8");
                res.on("data", (c: string) => (text += c));
                res.on("end", () =>
                    (res.statusCode ?? 500) < 300
                        ? resolve(JSON.parse(text))
                        : reject(new Error(`${method} ${path}: ${res.statusCode} ${text.slice(0, 300)}`)),
                );
            },
        );
        req.on("error", reject);
        if (payload) req.write(payload);
        req.end();
    });
}

function realIo(cfg: StepConfig, conn: KubeConnection): StepIo {
    const route = `/apis/gateway.networking.k8s.io/v1/namespaces/${cfg.route.namespace}/httproutes/${cfg.route.name}`;
    return {
        async query(promql) {
            const res = await fetch(`${cfg.prometheusUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
            return queryValue(await res.json());
        },
        async setWeights(byNamespace) {
            const current = (await kubeRequest(conn, "GET", route)) as {
                metadata: { resourceVersion: string };
                spec: { rules: RouteRule[] };
            };
            const rules = rulesWithWeights(current.spec.rules, byNamespace);
            // resourceVersion makes the patch fail rather than overwrite a concurrent change.
            await kubeRequest(
                conn,
                "PATCH",
                route,
                { metadata: { resourceVersion: current.metadata.resourceVersion }, spec: { rules } },
                "application/merge-patch+json",
            );
        },
        async pushRollback(ts) {
            const res = await fetch(`${cfg.pushgatewayUrl}${pushPath(cfg.model, cfg.candidate.version, cfg.mode)}`, {
                method: "PUT",
                headers: { "Content-Type": "text/plain; version=0.0.4" },
                body: rollbackExposition(cfg.rollbackMetric, cfg.candidate.namespace, ts),
            });
            if (!res.ok) throw new Error(`Pushgateway: ${res.status} ${await res.text()}`);
        },
        sleep: (s) => new Promise((r) => setTimeout(r, s * 1000)),
        log: (line) => console.log(`${new Date().toISOString()} ${line}`),
        now: () => Date.now(),
    };
}

/** Entry point of the step: runs the rollout, writes the decision and reason to the Task results, exits 1 on rollback. */
export async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
    const cfg = configFromEnv(env);
    const d = await runPromotion(cfg, realIo(cfg, kubeConnection(env)));
    if (env.RESULT_DECISION_PATH) writeFileSync(env.RESULT_DECISION_PATH, d.action);
    if (env.RESULT_REASON_PATH) writeFileSync(env.RESULT_REASON_PATH, d.reason);
    if (d.action === "rollback") process.exitCode = 1;
}
