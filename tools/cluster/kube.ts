/**
 * The official Kubernetes client for Node (@kubernetes/client-node), with every API warning (the `Warning` response
 * header: Pod Security, deprecations, unknown fields) collected, so a caller can treat a warning as a failure.
 */
import type * as K8s from "@kubernetes/client-node" with { "resolution-mode": "import" };

type KubernetesObject = K8s.KubernetesObject;

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

export class Kube {
    readonly kc: K8s.KubeConfig;
    readonly objects: K8s.KubernetesObjectApi;
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
        const collect = {
            pre: async (ctx: K8s.RequestContext) => ctx,
            post: async (ctx: K8s.ResponseContext) => {
                this.warnings.push(...warningMessages(ctx.headers["warning"]));
                return ctx;
            },
        };
        const config = k8s.createConfiguration({
            baseServer: new k8s.ServerConfiguration(cluster.server, {}),
            authMethods: { default: this.kc },
            promiseMiddleware: [collect],
        });
        this.objects = new k8s.KubernetesObjectApi(config);
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

    /** The warnings collected since the last call, and forgets them. */
    takeWarnings(): string[] {
        const w = this.warnings;
        this.warnings = [];
        return w;
    }

    /** Server-side apply; throws with the API's message when refused and when the API warned. */
    async apply<T extends KubernetesObject>(obj: T, fieldManager = FIELD_MANAGER): Promise<T> {
        this.takeWarnings();
        let result: T;
        try {
            result = await this.objects.patch(
                obj,
                undefined,
                undefined,
                fieldManager,
                true,
                this.k8s.PatchStrategy.ServerSideApply,
            );
        } catch (e) {
            throw new Error(`${describe(obj)}: ${apiMessage(e)}`);
        }
        const warnings = this.takeWarnings();
        if (warnings.length > 0) throw new Error(`${describe(obj)}: accepted with warnings: ${warnings.join("; ")}`);
        return result;
    }

    async read<T extends KubernetesObject>(
        apiVersion: string,
        kind: string,
        name: string,
        namespace?: string,
    ): Promise<T> {
        return (await this.objects.read({ apiVersion, kind, metadata: { name, namespace } })) as T;
    }

    async list<T extends KubernetesObject>(
        apiVersion: string,
        kind: string,
        namespace?: string,
        labelSelector?: string,
    ): Promise<T[]> {
        const res = await this.objects.list(
            apiVersion,
            kind,
            namespace,
            undefined,
            undefined,
            undefined,
            undefined,
            labelSelector,
        );
        return res.items as T[];
    }

    /** Creates an object (POST): used where an apply would hide what a create is refused for. */
    async create<T extends KubernetesObject>(obj: T): Promise<T> {
        return (await this.objects.create(obj)) as T;
    }

    async delete(obj: KubernetesObject): Promise<void> {
        await this.objects.delete(obj);
    }
}

export function describe(obj: KubernetesObject): string {
    const ns = obj.metadata?.namespace ? `${obj.metadata.namespace}/` : "";
    return `${obj.apiVersion}/${obj.kind} ${ns}${obj.metadata?.name ?? "<unnamed>"}`;
}

/** The API's own message of a refused request (its Status), or the error. */
export function apiMessage(e: unknown): string {
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
