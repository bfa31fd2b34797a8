/**
 * What plays a role in the study because this machine has no kubelet, container engine, gateway or Triggers
 * controller. Each reads the real objects from the local control plane and runs real code:
 *
 * - ImageStore: build-image's own `prepare` step writes the image's build context (model code, loader);
 *   buildah cannot run here (no container engine), so the context is kept by a digest computed from its files, and
 *   `<IMAGE_REPOSITORY>@sha256:<digest>` is the image reference the deploy step gets (it refuses anything else);
 * - Kubelet: for every `model-server` Deployment the deploy step applies, runs the pod's init container command
 *   (`python -m mlops_steps.store download ...`) and then the server with the container's args and env, as the image's
 *   entrypoint would (`python /app/server.py`, PYTHONPATH runtime packages:app; here the Kubelet's Python environment
 *   has the runtime's packages) on a pod address of its own on loopback;
 * - Gateway: a weighted router that reads the model's HTTPRoute from the API on every request and forwards it to a
 *   backend chosen by the route's weights (and copies it to a RequestMirror backend);
 * - EventListener: an HTTP server that fires each request through the rendered listener's interceptors and bindings
 *   (tools/study/triggers.ts, CEL on @marcbachmann/cel-js) and hands the PipelineRuns they create to the study.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import type { Json } from "../../contract/json";
import type { Kube } from "../cluster/kube";
import { fire, type SecretObject } from "./triggers";

/** Build contexts by digest. */
export class ImageStore {
    constructor(readonly dir: string) {
        fs.mkdirSync(dir, { recursive: true });
    }

    /** A digest of a directory's files: sha256 over each relative path and its content's sha256, sorted by path. */
    static digest(dir: string): string {
        const files: string[] = [];
        const walk = (d: string) => {
            for (const e of fs.readdirSync(d, { withFileTypes: true })) {
                const p = path.join(d, e.name);
                if (e.isDirectory()) walk(p);
                else if (e.isFile()) files.push(p);
            }
        };
        walk(dir);
        const h = createHash("sha256");
        for (const f of files.map((f) => path.relative(dir, f)).sort()) {
            h.update(f + "\0");
            h.update(
                createHash("sha256")
                    .update(fs.readFileSync(path.join(dir, f)))
                    .digest("hex") + "\n",
            );
        }
        return h.digest("hex");
    }

    /** Keeps a build context (moved into the store) and returns its digest. */
    add(context: string): string {
        const digest = ImageStore.digest(context);
        const target = path.join(this.dir, digest);
        if (!fs.existsSync(target)) fs.cpSync(context, target, { recursive: true });
        return digest;
    }

    /** The build context of an image reference pinned by digest, or undefined (an image this store never built). */
    context(image: string): string | undefined {
        const m = /@sha256:([0-9a-f]{64})$/.exec(image);
        const dir = m && path.join(this.dir, m[1]);
        return dir && fs.existsSync(dir) ? dir : undefined;
    }
}

export interface PodState {
    readonly namespace: string;
    readonly ip: string;
    readonly image: string;
    readonly phase: "Running" | "Init:Error" | "ErrImagePull" | "Exited";
    readonly pid?: number;
    readonly message?: string;
}

/**
 * Starts `argv` with its output and errors in `logFile`. The child holds its own copy of the log's descriptor, so this
 * process closes its one at once (kept, it would stay open as long as the study runs).
 */
function spawnLogged(
    argv: readonly string[],
    options: { env: NodeJS.ProcessEnv; cwd: string },
    logFile: string,
): ChildProcess {
    const log = fs.openSync(logFile, "w");
    try {
        return spawn(argv[0], argv.slice(1), { ...options, stdio: ["ignore", log, log] });
    } finally {
        fs.closeSync(log);
    }
}

/** One loopback address per model namespace: the pod's address and its Service's. */
export function podIp(index: number): string {
    return `127.0.1.${index + 1}`;
}

export class Kubelet {
    private readonly pods = new Map<string, { key: string; state: PodState; child?: ChildProcess }>();
    private timer?: NodeJS.Timeout;
    private busy = false;
    /** Every pod start, in order, for the study's output. */
    readonly log: string[] = [];

    constructor(
        private readonly kube: Kube,
        private readonly images: ImageStore,
        private readonly python: string,
        private readonly dir: string,
        readonly namespaces: readonly string[],
        private readonly targetsFile: string,
        /** How long an init container may run before it is killed and its pod fails (a download that hangs). */
        private readonly initTimeoutMs = 120_000,
    ) {
        fs.writeFileSync(targetsFile, "[]");
        fs.mkdirSync(dir, { recursive: true });
    }

    ip(namespace: string): string {
        const i = this.namespaces.indexOf(namespace);
        if (i < 0) throw new Error(`${namespace} is not a model namespace`);
        return podIp(i);
    }

    start(): void {
        this.timer = setInterval(
            () => void this.sync().catch((e) => this.log.push(`kubelet: ${(e as Error).message}`)),
            1000,
        );
    }

    state(namespace: string): PodState | undefined {
        return this.pods.get(namespace)?.state;
    }

    /** Whether the namespace's pod runs `template` (a Deployment's spec.template as the API holds it). */
    runsTemplate(namespace: string, template: Json): boolean {
        return this.pods.get(namespace)?.key === JSON.stringify(template.spec);
    }

    /** Reads each model namespace's Deployment and (re)starts its pod when the pod template changed. */
    async sync(): Promise<void> {
        if (this.busy) return;
        this.busy = true;
        try {
            for (const ns of this.namespaces) {
                let dep: Json | undefined;
                try {
                    dep = await this.kube.read<Json>("apps/v1", "Deployment", "model-server", ns);
                } catch {
                    dep = undefined;
                }
                const key = dep && dep.spec.replicas > 0 ? JSON.stringify(dep.spec.template.spec) : "";
                if ((this.pods.get(ns)?.key ?? "") === key) continue;
                this.stopPod(ns);
                if (key) await this.startPod(ns, dep!, key);
            }
        } finally {
            this.busy = false;
        }
    }

    private async envOf(ns: string, c: Json): Promise<Record<string, string>> {
        const env: Record<string, string> = {};
        for (const from of c.envFrom ?? []) {
            if (from.secretRef) {
                const s = await this.kube.read<Json>("v1", "Secret", from.secretRef.name, ns);
                for (const [k, v] of Object.entries<string>(s.data ?? {})) env[k] = Buffer.from(v, "base64").toString();
            }
            if (from.configMapRef)
                Object.assign(env, (await this.kube.read<Json>("v1", "ConfigMap", from.configMapRef.name, ns)).data);
        }
        for (const e of c.env ?? []) {
            if (e.value !== undefined) env[e.name] = e.value;
            else if (e.valueFrom?.fieldRef?.fieldPath === "metadata.namespace") env[e.name] = ns;
        }
        return env;
    }

    private async startPod(ns: string, dep: Json, key: string): Promise<void> {
        const spec = dep.spec.template.spec;
        const container = spec.containers[0];
        const image: string = container.image;
        const ip = this.ip(ns);
        const set = (state: PodState, child?: ChildProcess) => {
            this.pods.set(ns, { key, state, child });
            this.log.push(`${ns}: ${state.phase}${state.message ? ` (${state.message})` : ""}`);
            this.writeTargets();
        };
        const context = this.images.context(image);
        if (!context)
            return set({ namespace: ns, ip, image, phase: "ErrImagePull", message: `unknown image ${image}` });
        const podDir = fs.mkdtempSync(path.join(this.dir, `${ns}-`));
        const volume = (p: string) => p.replace(/^\/model(?=\/|$)/, path.join(podDir, "model"));
        const imageEnv = {
            PATH: `${this.python}:${process.env.PATH}`,
            PYTHONPATH: `${context}/app`,
            PYTHONDONTWRITEBYTECODE: "1",
            PYTHONUNBUFFERED: "1",
            HOME: podDir,
            TMPDIR: podDir,
        };
        for (const init of spec.initContainers ?? []) {
            const argv: string[] = [...(init.command ?? []), ...(init.args ?? [])].map(volume);
            const env = { ...imageEnv, ...(await this.envOf(ns, init)) };
            const logFile = path.join(podDir, `${init.name}.log`);
            const failure = await this.runInit(argv, { env, cwd: `${context}/app` }, logFile);
            if (failure !== undefined) {
                const tail = fs.readFileSync(logFile, "utf8").trim().split("\n").slice(-1)[0];
                return set({
                    namespace: ns,
                    ip,
                    image,
                    phase: "Init:Error",
                    message: `${init.name} ${failure}${tail ? `: ${tail}` : ""}`,
                });
            }
        }
        const args: string[] = [...(container.args ?? [])].map(volume);
        const env = { ...imageEnv, ...(await this.envOf(ns, container)) };
        // The image's ENTRYPOINT is python /app/server.py; --host gives the pod its own loopback address.
        const child = spawnLogged(
            ["python", `${context}/app/server.py`, ...args, "--host", ip],
            { env, cwd: `${context}/app` },
            path.join(podDir, "server.log"),
        );
        const exited = (message: string) => {
            const cur = this.pods.get(ns);
            if (cur?.child === child) this.pods.set(ns, { ...cur, state: { ...cur.state, phase: "Exited", message } });
        };
        // Without a listener a server that cannot start (no python on PATH) would end the study with its services up.
        child.on("error", (e) => exited(`could not start (${e.message})`));
        child.on("exit", (code) => exited(`exit ${code}`));
        set({ namespace: ns, ip, image, phase: "Running", pid: child.pid }, child);
    }

    /**
     * Runs one init container to its end, its output in `logFile`. Undefined when it exited 0, else why it failed: its
     * exit code, that it could not start, or that it outran the timeout and was killed.
     */
    private runInit(
        argv: readonly string[],
        options: { env: NodeJS.ProcessEnv; cwd: string },
        logFile: string,
    ): Promise<string | undefined> {
        return new Promise((resolve) => {
            const child = spawnLogged(argv, options, logFile);
            let failure: string | undefined;
            const timer = setTimeout(() => {
                failure = `ran longer than ${this.initTimeoutMs / 1000} s and was killed`;
                child.kill("SIGKILL");
            }, this.initTimeoutMs);
            // A command that cannot start (not found, not executable) emits "error", then "close".
            child.on("error", (e) => (failure ??= `could not start (${e.message})`));
            child.on("close", (code, signal) => {
                clearTimeout(timer);
                resolve(failure ?? (code === 0 ? undefined : `exited ${code ?? signal}`));
            });
        });
    }

    private stopPod(ns: string): void {
        const cur = this.pods.get(ns);
        if (cur?.child && cur.child.exitCode === null && cur.child.pid) process.kill(cur.child.pid, "SIGTERM");
        this.pods.delete(ns);
        this.writeTargets();
    }

    /** Prometheus' file_sd targets: each running server's metrics port, labelled like the PodMonitor's targets. */
    private writeTargets(): void {
        const targets = [...this.pods.values()]
            .filter((p) => p.state.phase === "Running")
            .map((p) => ({
                targets: [`${p.state.ip}:9090`],
                labels: { namespace: p.state.namespace, pod: `model-server-${p.state.namespace}` },
            }));
        fs.writeFileSync(this.targetsFile + ".tmp", JSON.stringify(targets));
        fs.renameSync(this.targetsFile + ".tmp", this.targetsFile);
    }

    async stop(): Promise<void> {
        if (this.timer) clearInterval(this.timer);
        for (const ns of [...this.pods.keys()]) this.stopPod(ns);
    }
}

/** Picks a backend by weight (weights of 0 never win); `r` in [0, 1). */
export function pickByWeight<T extends { weight: number }>(backends: readonly T[], r: number): T | undefined {
    const total = backends.reduce((s, b) => s + Math.max(0, b.weight), 0);
    if (total <= 0) return undefined;
    let x = r * total;
    for (const b of backends) {
        x -= Math.max(0, b.weight);
        if (x < 0) return b;
    }
    return [...backends].reverse().find((b) => b.weight > 0);
}

/** A path match of an HTTPRoute rule (Gateway API `HTTPPathMatch`; the type defaults to PathPrefix). */
export interface PathMatch {
    readonly type?: string;
    readonly value?: string;
}

/**
 * How much of `path` a Gateway API path match matches, or -1: Exact the whole path; PathPrefix whole path elements,
 * so `/models/iris` matches `/models/iris` and `/models/iris/predict` but not `/models/iris-b/predict` (a trailing
 * slash of the prefix is ignored).
 */
export function pathMatchLength(match: PathMatch | undefined, path: string): number {
    const value = match?.value ?? "/";
    if ((match?.type ?? "PathPrefix") === "Exact") return path === value ? value.length : -1;
    const prefix = value.replace(/\/+$/, "");
    return path === prefix || path.startsWith(`${prefix}/`) ? prefix.length : -1;
}

/**
 * The rule of `routes` a request for `path` takes, and how much of the path it matched: of every rule with a
 * matching path, the one with the longest match (the Gateway API's precedence among path matches), the first listed
 * among equals.
 */
export function routeRuleFor<Rule extends { matches?: readonly { readonly path?: PathMatch }[] }>(
    routes: readonly { spec: { rules?: readonly Rule[] } }[],
    path: string,
): { rule: Rule; matched: number } | undefined {
    let best: { rule: Rule; matched: number } | undefined;
    for (const route of routes)
        for (const rule of route.spec.rules ?? [])
            for (const m of rule.matches ?? [{}]) {
                const matched = pathMatchLength(m.path, path);
                if (matched >= 0 && (!best || matched > best.matched)) best = { rule, matched };
            }
    return best;
}

/**
 * Listens on `ip:port`, rejecting on a bind error (the port taken, the address absent) so that the study's cleanup
 * runs: without an "error" handler the server's error event would end the process with its services still running.
 */
async function listenOn(server: http.Server, port: number, ip: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, ip, () => {
            server.off("error", reject);
            resolve();
        });
    });
}

/** Stops a server that is listening; one never started or whose listen failed has nothing to stop. */
async function closeServer(server: http.Server | undefined): Promise<void> {
    if (!server?.listening) return;
    await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
}

/** The model gateway: routes /models/<model>/... by the HTTPRoute's weights, read from the API on every request. */
export class Gateway {
    private server?: http.Server;
    readonly served = new Map<string, number>();
    constructor(
        private readonly kube: Kube,
        private readonly gatewayNamespace: string,
        private readonly ipOf: (namespace: string) => string,
    ) {}

    async listen(ip: string, port: number): Promise<void> {
        this.server = http.createServer((req, res) => void this.handle(req, res));
        await listenOn(this.server, port, ip);
    }

    private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
        const body = await new Promise<Buffer>((r) => {
            const parts: Buffer[] = [];
            req.on("data", (d) => parts.push(d));
            req.on("end", () => r(Buffer.concat(parts)));
        });
        try {
            const routes = await this.kube.list<Json>(
                "gateway.networking.k8s.io/v1",
                "HTTPRoute",
                this.gatewayNamespace,
            );
            const [pathPart, query] = (req.url ?? "/").split(/\?(.*)/s);
            const found = routeRuleFor<Json>(routes, pathPart);
            if (!found) {
                res.writeHead(404).end("no route");
                return;
            }
            const { rule, matched } = found;
            // ReplacePrefixMatch with "/": the rest of the path after the matched prefix, from the root.
            const rewrite = (rule.filters ?? []).find((f: Json) => f.type === "URLRewrite");
            const rewritten = rewrite ? "/" + pathPart.slice(matched).replace(/^\//, "") : pathPart;
            const url = query === undefined ? rewritten : `${rewritten}?${query}`;
            for (const f of rule.filters ?? [])
                if (f.type === "RequestMirror")
                    void forward(
                        this.ipOf(f.requestMirror.backendRef.namespace),
                        f.requestMirror.backendRef.port,
                        req.method!,
                        url,
                        body,
                    ).catch(() => undefined);
            const b = pickByWeight<Json>(
                (rule.backendRefs ?? []).map((x: Json) => ({ ...x, weight: x.weight ?? 1 })),
                Math.random(),
            );
            if (!b) {
                res.writeHead(503).end("no backend with weight");
                return;
            }
            this.served.set(b.namespace, (this.served.get(b.namespace) ?? 0) + 1);
            const r = await forward(this.ipOf(b.namespace), b.port, req.method!, url, body);
            res.writeHead(r.status, { "content-type": "application/json" }).end(r.body);
        } catch (e) {
            res.writeHead(502).end(String(e));
        }
    }

    async close(): Promise<void> {
        await closeServer(this.server);
    }
}

async function forward(ip: string, port: number, method: string, url: string, body: Buffer) {
    const r = await fetch(`http://${ip}:${port}${url}`, {
        method,
        body: method === "GET" ? undefined : body,
        headers: { "content-type": "application/json" },
        signal: AbortSignal.timeout(10_000),
    });
    return { status: r.status, body: await r.text() };
}

export interface FiredRun {
    readonly trigger: string;
    readonly pipelineRun: Record<string, Json>;
    readonly receivedAt: number;
}

/** The EventListener: each request through the rendered triggers; the PipelineRuns they create go to `onRun`. */
export class EventListener {
    private server?: http.Server;
    readonly requests: { at: number; fired: string[] }[] = [];
    constructor(
        private readonly listener: Record<string, Json>,
        private readonly objects: { bindings: Record<string, Json>[]; templates: Record<string, Json>[] },
        private readonly secrets: readonly SecretObject[],
        private readonly onRun: (run: FiredRun) => void,
    ) {}

    async listen(ip: string, port: number): Promise<void> {
        this.server = http.createServer((req, res) => {
            const parts: Buffer[] = [];
            req.on("data", (d) => parts.push(d));
            req.on("end", () => {
                const body = Buffer.concat(parts).toString("utf8");
                const headers = Object.fromEntries(
                    Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v[0] : (v ?? "")]),
                );
                try {
                    const fired = fire(this.listener, this.objects, { body, headers }, this.secrets);
                    this.requests.push({ at: Date.now(), fired: fired.map((f) => f.trigger) });
                    for (const f of fired)
                        for (const r of f.resources)
                            this.onRun({ trigger: f.trigger, pipelineRun: r, receivedAt: Date.now() });
                    res.writeHead(202, { "content-type": "application/json" }).end(
                        JSON.stringify({ fired: fired.map((f) => f.trigger) }),
                    );
                } catch (e) {
                    res.writeHead(400).end(String(e));
                }
            });
        });
        await listenOn(this.server, port, ip);
    }

    async close(): Promise<void> {
        await closeServer(this.server);
    }
}
