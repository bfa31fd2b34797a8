/**
 * A Kubernetes API client on the official client for Node (@kubernetes/client-node), with every API warning (the
 * `Warning` response header: Pod Security, deprecations, unknown fields) collected, so a caller can treat a warning
 * as a failure.
 */
import * as https from "node:https";
import type * as K8s from "@kubernetes/client-node" with { "resolution-mode": "import" };
import type { Json } from "../../contract/json";
import { POD_SECURITY_EXCEPTION } from "../../pipelines/core/runtime";

/** The client library (an ES module, loaded once). */
let loaded: typeof K8s | undefined;
export async function k8sClient(): Promise<typeof K8s> {
    loaded ??= await import("@kubernetes/client-node");
    return loaded;
}

/** The field manager of everything the tier applies from the plan, as Pulumi's provider would own it. */
export const FIELD_MANAGER = "mlops-testbed-plan";

/** The messages of `Warning: 299 - "<message>"` headers (RFC 7234), however the HTTP client joined them. */
export function warningMessages(header: string | undefined): string[] {
    if (!header) return [];
    const out: string[] = [];
    const re = /\d{3} \S+ "((?:[^"\\]|\\.)*)"/g;
    for (let m = re.exec(header); m; m = re.exec(header)) out.push(m[1].replace(/\\(.)/g, "$1"));
    return out;
}

/** A Kubernetes object as JSON. */
export type KubernetesObject = {
    apiVersion: string;
    kind: string;
    metadata: { name?: string; namespace?: string; [k: string]: unknown };
    [k: string]: unknown;
};

/** A refusal of the API: the HTTP status and the API's Status message. */
export class ApiError extends Error {
    constructor(
        readonly code: number,
        readonly status: { message?: string; reason?: string } | undefined,
        what: string,
    ) {
        super(`${what}: ${code} ${status?.message ?? ""}`);
    }
}

interface ApiResource {
    name: string;
    kind: string;
    namespaced: boolean;
}

/**
 * A client of one cluster. Objects go to the API as the JSON they are, over the connection the official client
 * sets up from the kubeconfig (KubeConfig.applyToHTTPSOptions: CA, client certificate or token): the client's own
 * object API re-serializes bodies through its typed models, which silently drops fields it does not know (and
 * JSON names such as `x-kubernetes-int-or-string`), so the server would never judge them. Typed calls (TokenRequest,
 * SubjectAccessReview) use the client's generated APIs.
 */
export class Kube {
    readonly kc: K8s.KubeConfig;
    private readonly server: URL;
    private readonly resources = new Map<string, ApiResource[]>();
    /** Warnings of responses since the last take(). */
    private warnings: string[] = [];

    private constructor(
        readonly k8s: typeof K8s,
        kubeconfigPath: string,
    ) {
        this.kc = new k8s.KubeConfig();
        this.kc.loadFromFile(kubeconfigPath);
        const cluster = this.kc.getCurrentCluster();
        if (!cluster) throw new Error(`${kubeconfigPath}: no current cluster`);
        this.server = new URL(cluster.server);
    }

    /** A client of the cluster a kubeconfig file names. */
    static async connect(kubeconfigPath: string): Promise<Kube> {
        return new Kube(await k8sClient(), kubeconfigPath);
    }

    get core(): K8s.CoreV1Api {
        return this.kc.makeApiClient(this.k8s.CoreV1Api);
    }

    get authorization(): K8s.AuthorizationV1Api {
        return this.kc.makeApiClient(this.k8s.AuthorizationV1Api);
    }

    /** One request; resolves with the JSON answer, rejects with ApiError for a status of 300 or more. */
    async request(method: string, path: string, body?: unknown, contentType = "application/json"): Promise<Json> {
        const opts: https.RequestOptions = {
            method,
            host: this.server.hostname,
            port: this.server.port || 443,
            path,
            headers: {},
        };
        await this.kc.applyToHTTPSOptions(opts);
        const payload = body === undefined ? undefined : JSON.stringify(body);
        opts.headers = {
            ...opts.headers,
            Accept: "application/json",
            ...(payload ? { "Content-Type": contentType } : {}),
        };
        return new Promise((resolve, reject) => {
            const req = https.request(opts, (res) => {
                let text = "";
                res.setEncoding("utf8");
                res.on("data", (c: string) => (text += c));
                res.on("end", () => {
                    const w = res.headers["warning"];
                    this.warnings.push(...warningMessages(Array.isArray(w) ? w.join(", ") : w));
                    const json = text ? safeJson(text) : {};
                    if ((res.statusCode ?? 500) >= 300)
                        reject(new ApiError(res.statusCode ?? 500, json as Json, `${method} ${path}`));
                    else resolve(json);
                });
            });
            req.on("error", reject);
            if (payload) req.write(payload);
            req.end();
        });
    }

    /** The API path of an object (or of its collection, without a name), found by discovery. */
    async path(apiVersion: string, kind: string, namespace?: string, name?: string): Promise<string> {
        const base = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
        let list = this.resources.get(apiVersion);
        const find = () => list?.find((r) => r.kind === kind && !r.name.includes("/"));
        if (!find()) {
            list = (await this.request("GET", base)).resources as ApiResource[];
            this.resources.set(apiVersion, list);
        }
        const r = find();
        if (!r) throw new ApiError(404, { message: `the API has no ${kind} in ${apiVersion}` }, `discovery ${base}`);
        const ns = r.namespaced ? `/namespaces/${namespace ?? "default"}` : "";
        return `${base}${ns}/${r.name}${name ? `/${name}` : ""}`;
    }

    /** The warnings collected since the last call, and forgets them. */
    takeWarnings(): string[] {
        const w = this.warnings;
        this.warnings = [];
        return w;
    }

    /** Server-side apply; throws with the API's message when refused, and when the API warned. */
    async apply<T extends KubernetesObject>(obj: T, fieldManager = FIELD_MANAGER): Promise<T> {
        this.takeWarnings();
        let result: T;
        try {
            const p = await this.path(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name);
            result = await this.request(
                "PATCH",
                `${p}?fieldManager=${encodeURIComponent(fieldManager)}&force=true`,
                obj,
                "application/apply-patch+yaml",
            );
        } catch (e) {
            throw new Error(`${describe(obj)}: ${apiMessage(e)}`, { cause: e });
        }
        const warnings = this.takeWarnings().filter((w) => !declaredPodSecurityException(obj, w));
        if (warnings.length > 0) throw new Error(`${describe(obj)}: accepted with warnings: ${warnings.join("; ")}`);
        return result;
    }

    async read<T = Json>(apiVersion: string, kind: string, name: string, namespace?: string): Promise<T> {
        return this.request("GET", await this.path(apiVersion, kind, namespace, name));
    }

    async list<T = Json>(apiVersion: string, kind: string, namespace?: string, labelSelector?: string): Promise<T[]> {
        const q = labelSelector ? `?labelSelector=${encodeURIComponent(labelSelector)}` : "";
        return (await this.request("GET", `${await this.path(apiVersion, kind, namespace)}${q}`)).items;
    }

    /** Creates an object (POST); `dryRun` asks the API to admit it without storing it. */
    async create<T extends KubernetesObject>(obj: T, dryRun = false): Promise<T> {
        const p = await this.path(obj.apiVersion, obj.kind, obj.metadata.namespace);
        return this.request("POST", `${p}${dryRun ? "?dryRun=All" : ""}`, obj);
    }

    async delete(obj: KubernetesObject): Promise<void> {
        await this.request(
            "DELETE",
            await this.path(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name),
        );
    }
}

export function describe(obj: KubernetesObject): string {
    const ns = obj.metadata?.namespace ? `${obj.metadata.namespace}/` : "";
    return `${obj.apiVersion}/${obj.kind} ${ns}${obj.metadata?.name ?? "<unnamed>"}`;
}

/** The API's own message of a refused request (its Status), or the error. */
export function apiMessage(e: unknown): string {
    if (e instanceof ApiError) return e.message.slice(e.message.indexOf(": ") + 2);
    if (loaded && e instanceof loaded.ApiException) {
        const body = typeof e.body === "string" ? safeJson(e.body) : e.body;
        const message = (body as { message?: string } | undefined)?.message;
        return `${e.code} ${message ?? String(e.body).slice(0, 500)}`;
    }
    return e instanceof Error ? e.message : String(e);
}

function safeJson(s: string): unknown {
    try {
        return JSON.parse(s);
    } catch {
        return s;
    }
}

export function sleep(ms: number): Promise<void> {
    return new Promise((r) => setTimeout(r, ms));
}

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs` with `what`. */
export async function waitFor<T>(
    what: string,
    timeoutMs: number,
    check: () => Promise<T | undefined>,
    intervalMs = 500,
): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
        try {
            const v = await check();
            if (v !== undefined) return v;
        } catch (e) {
            last = e;
        }
        if (Date.now() > deadline)
            throw new Error(`${what}: not after ${timeoutMs / 1000} s${last ? ` (${apiMessage(last)})` : ""}`);
        await sleep(intervalMs);
    }
}

/**
 * Whether `warning` is a Pod Security warning that names only containers `obj` declares as exceptions
 * (POD_SECURITY_EXCEPTION, comma-separated names): any other warning, or one naming another container, still fails.
 */
export function declaredPodSecurityException(obj: KubernetesObject, warning: string): boolean {
    const annotations = obj.metadata?.annotations as Record<string, string> | undefined;
    const declared = annotations?.[POD_SECURITY_EXCEPTION];
    if (!declared || !/^would violate PodSecurity "[a-z]+:[^"]+": /.test(warning)) return false;
    const allowed = new Set(declared.split(",").map((c) => c.trim()));
    const clauses = [...warning.matchAll(/\(([^()]*) must /g)].map((m) => m[1]);
    if (clauses.length === 0) return false;
    return clauses.every((c) => {
        const named = /^(?:pod or )?containers? ((?:"[^"]+"(?:, )?)+)$/.exec(c);
        return named !== null && [...named[1].matchAll(/"([^"]+)"/g)].every((m) => allowed.has(m[1]));
    });
}
