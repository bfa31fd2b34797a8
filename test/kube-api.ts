/**
 * A loopback Kubernetes API for running the pipelines' API-facing steps offline: discovery (/version, /api, /apis,
 * per group-version resource lists), and get, list (label selector), server-side apply, merge patch, update and
 * delete of the kinds the steps use, kept in memory. It records every request as the apiserver's authorizer sees it
 * (verb, API group, version, resource, namespace, name, subresource; non-resource paths apart) and, like the
 * apiserver, also checks `create` when a server-side apply creates its object. A Deployment reports rolled out on
 * the second read after an apply, so a rollout wait really waits.
 *
 * It is not Kubernetes: no admission, no schema, no defaulting. The real apiserver tier re-judges the same calls.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import type { Json } from "./json";

export interface ApiResource {
    readonly group: string;
    readonly version: string;
    readonly resource: string;
    readonly kind: string;
    readonly namespaced: boolean;
}

/** The kinds the steps use, as the apiserver serves them. */
export const RESOURCES: readonly ApiResource[] = [
    { group: "", version: "v1", resource: "configmaps", kind: "ConfigMap", namespaced: true },
    { group: "apps", version: "v1", resource: "deployments", kind: "Deployment", namespaced: true },
    {
        group: "autoscaling",
        version: "v2",
        resource: "horizontalpodautoscalers",
        kind: "HorizontalPodAutoscaler",
        namespaced: true,
    },
    { group: "policy", version: "v1", resource: "poddisruptionbudgets", kind: "PodDisruptionBudget", namespaced: true },
    { group: "gateway.networking.k8s.io", version: "v1", resource: "httproutes", kind: "HTTPRoute", namespaced: true },
    { group: "tekton.dev", version: "v1", resource: "pipelineruns", kind: "PipelineRun", namespaced: true },
];

/** One request as the authorizer sees it. */
export interface ApiCall {
    readonly verb: string;
    /** False for discovery and other non-resource paths (then only `path` matters). */
    readonly resourceRequest: boolean;
    readonly path: string;
    readonly apiGroup: string;
    readonly apiVersion: string;
    readonly resource: string;
    readonly subresource: string;
    readonly namespace: string;
    readonly name: string;
    /** Bearer token the request carried. */
    readonly token: string;
    /** HTTP status answered. */
    status: number;
}

type Obj = Record<string, Json>;

const key = (r: ApiResource, ns: string, name: string) => `${r.group}/${r.resource}/${ns}/${name}`;

function mergePatch(target: Json, patch: Json): Json {
    if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return patch;
    const out = target !== null && typeof target === "object" && !Array.isArray(target) ? { ...target } : {};
    for (const [k, v] of Object.entries(patch)) {
        if (v === null) delete out[k];
        else out[k] = mergePatch(out[k], v);
    }
    return out;
}

function matchesSelector(obj: Obj, selector: string | null): boolean {
    if (!selector) return true;
    const labels = obj.metadata?.labels ?? {};
    return selector.split(",").every((term) => {
        const [k, v] = term.split("=");
        return labels[k] === v;
    });
}

export class KubeApi {
    readonly calls: ApiCall[] = [];
    private readonly objects = new Map<string, Obj>();
    private readonly readsSinceApply = new Map<string, number>();
    private server?: http.Server;
    private revision = 1;
    /** Base URL once started. */
    url = "";

    constructor(readonly token = "step-token") {}

    /** Puts an object in the store (as Pulumi would have created it); not recorded as a call. */
    seed(obj: Obj): void {
        const r = this.resourceOf(obj.apiVersion, obj.kind);
        const meta = obj.metadata;
        this.objects.set(key(r, meta.namespace, meta.name), this.stamp(structuredClone(obj), undefined));
    }

    object(apiVersion: string, kind: string, namespace: string, name: string): Obj | undefined {
        return this.objects.get(key(this.resourceOf(apiVersion, kind), namespace, name));
    }

    objectsOf(apiVersion: string, kind: string, namespace: string): Obj[] {
        const r = this.resourceOf(apiVersion, kind);
        return [...this.objects.entries()]
            .filter(([k]) => k.startsWith(`${r.group}/${r.resource}/${namespace}/`))
            .map(([, o]) => o);
    }

    /** Resource calls only (discovery left out). */
    resourceCalls(): ApiCall[] {
        return this.calls.filter((c) => c.resourceRequest);
    }

    /** Writes a kubeconfig (JSON, which every kubeconfig reader accepts) for this server and token; returns its path. */
    writeKubeconfig(dir: string): string {
        const file = path.join(dir, "kubeconfig.json");
        const config = {
            apiVersion: "v1",
            kind: "Config",
            "current-context": "step",
            contexts: [{ name: "step", context: { cluster: "loopback", user: "step" } }],
            clusters: [{ name: "loopback", cluster: { server: this.url } }],
            users: [{ name: "step", user: { token: this.token } }],
        };
        fs.writeFileSync(file, JSON.stringify(config));
        return file;
    }

    async start(): Promise<void> {
        this.server = http.createServer((req, res) => {
            let body = "";
            req.setEncoding("utf8");
            req.on("data", (c: string) => (body += c));
            req.on("end", () => {
                const [status, answer] = this.handle(req, body);
                res.writeHead(status, { "Content-Type": "application/json" });
                res.end(JSON.stringify(answer));
            });
        });
        await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
        this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    }

    async stop(): Promise<void> {
        await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    }

    private resourceOf(apiVersion: string, kind: string): ApiResource {
        const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
        const r = RESOURCES.find((x) => x.group === group && x.version === version && x.kind === kind);
        if (!r) throw new Error(`the loopback API serves no ${apiVersion} ${kind}`);
        return r;
    }

    private stamp(obj: Obj, old: Obj | undefined): Obj {
        const specChanged = !old || JSON.stringify(old.spec) !== JSON.stringify(obj.spec);
        obj.metadata = {
            ...obj.metadata,
            resourceVersion: String(++this.revision),
            generation: (old?.metadata?.generation ?? 0) + (specChanged ? 1 : 0),
            uid: old?.metadata?.uid ?? `uid-${this.revision}`,
        };
        return obj;
    }

    private record(call: Omit<ApiCall, "status">, status: number): ApiCall {
        const c = { ...call, status };
        this.calls.push(c);
        return c;
    }

    private handle(req: http.IncomingMessage, body: string): [number, unknown] {
        const url = new URL(req.url ?? "/", "http://x");
        const method = req.method ?? "GET";
        const token = (req.headers.authorization ?? "").replace(/^Bearer /, "");
        const base = {
            path: url.pathname,
            apiGroup: "",
            apiVersion: "",
            resource: "",
            subresource: "",
            namespace: "",
            name: "",
            token,
        };
        const parts = url.pathname.split("/").filter(Boolean);
        const discovery = this.discovery(parts);
        if (discovery !== undefined || !["api", "apis"].includes(parts[0] ?? "")) {
            this.record({ ...base, verb: method.toLowerCase(), resourceRequest: false }, discovery ? 200 : 404);
            if (token !== this.token) return [401, { kind: "Status", code: 401 }];
            return discovery ? [200, discovery] : [404, { kind: "Status", code: 404 }];
        }
        // /api/v1/namespaces/<ns>/<resource>[/<name>[/<sub>]] or /apis/<group>/<version>/namespaces/...
        const [group, version, rest] =
            parts[0] === "api" ? ["", parts[1], parts.slice(2)] : [parts[1], parts[2], parts.slice(3)];
        const namespace = rest[0] === "namespaces" ? rest[1] : "";
        const after = rest[0] === "namespaces" ? rest.slice(2) : rest;
        const [resourceName, name = "", subresource = ""] = after;
        const r = RESOURCES.find((x) => x.group === group && x.version === version && x.resource === resourceName);
        const verb =
            method === "GET"
                ? name
                    ? "get"
                    : url.searchParams.get("watch") === "true"
                      ? "watch"
                      : "list"
                : method === "POST"
                  ? "create"
                  : method === "PUT"
                    ? "update"
                    : method === "PATCH"
                      ? "patch"
                      : name
                        ? "delete"
                        : "deletecollection";
        const call = {
            ...base,
            verb,
            resourceRequest: true,
            apiGroup: group,
            apiVersion: version,
            resource: resourceName,
            subresource,
            namespace,
            name,
        };
        if (token !== this.token) return [this.record(call, 401).status, { kind: "Status", code: 401 }];
        if (!r) return [this.record(call, 404).status, { kind: "Status", code: 404 }];
        const k = key(r, namespace, name);
        const found = this.objects.get(k);
        const notFound = (): [number, unknown] => [
            this.record(call, 404).status,
            { kind: "Status", code: 404, reason: "NotFound", message: `${r.resource} "${name}" not found` },
        ];
        const gv = r.group ? `${r.group}/${r.version}` : r.version;
        switch (verb) {
            case "get": {
                if (!found) return notFound();
                this.record(call, 200);
                if (r.kind === "Deployment") this.rollOut(k, found);
                return [200, found];
            }
            case "list": {
                const items = [...this.objects.entries()]
                    .filter(([ok]) => ok.startsWith(`${r.group}/${r.resource}/${namespace}/`))
                    .map(([, o]) => o)
                    .filter((o) => matchesSelector(o, url.searchParams.get("labelSelector")));
                this.record(call, 200);
                return [200, { apiVersion: gv, kind: `${r.kind}List`, metadata: {}, items }];
            }
            case "patch": {
                const type = req.headers["content-type"] ?? "";
                const patch = JSON.parse(body || "{}");
                if (type.startsWith("application/apply-patch")) {
                    if (!url.searchParams.get("fieldManager")) return [this.record(call, 400).status, { code: 400 }];
                    this.record(call, found ? 200 : 201);
                    // Apply of an absent object creates it: the apiserver authorizes that as `create` as well.
                    if (!found) this.record({ ...call, verb: "create" }, 201);
                    const applied = this.stamp({ ...patch, metadata: { ...patch.metadata, namespace, name } }, found);
                    applied.status = found?.status ?? {};
                    this.objects.set(k, applied);
                    this.readsSinceApply.set(k, 0);
                    return [found ? 200 : 201, applied];
                }
                if (!found) return notFound();
                if (type !== "application/merge-patch+json") return [this.record(call, 415).status, { code: 415 }];
                const want = patch.metadata?.resourceVersion;
                if (want !== undefined && want !== found.metadata.resourceVersion)
                    return [this.record(call, 409).status, { kind: "Status", code: 409, reason: "Conflict" }];
                const merged = this.stamp(mergePatch(found, patch), found);
                this.objects.set(k, merged);
                this.record(call, 200);
                return [200, merged];
            }
            case "update": {
                if (!found) return notFound();
                const updated = this.stamp(JSON.parse(body), found);
                this.objects.set(k, updated);
                this.record(call, 200);
                return [200, updated];
            }
            case "delete": {
                if (!found) return notFound();
                this.objects.delete(k);
                this.record(call, 200);
                return [200, { kind: "Status", status: "Success" }];
            }
            default:
                return [this.record(call, 405).status, { code: 405 }];
        }
    }

    /** A Deployment's status catches up with its spec on the second read after an apply. */
    private rollOut(k: string, d: Obj): void {
        const reads = (this.readsSinceApply.get(k) ?? 0) + 1;
        this.readsSinceApply.set(k, reads);
        if (reads < 2) return;
        const replicas = d.spec?.replicas ?? 1;
        d.status = {
            observedGeneration: d.metadata.generation,
            replicas,
            updatedReplicas: replicas,
            availableReplicas: replicas,
            readyReplicas: replicas,
        };
    }

    private discovery(parts: string[]): unknown {
        const groups = [...new Set(RESOURCES.filter((r) => r.group).map((r) => r.group))];
        if (parts.length === 1 && parts[0] === "version")
            return { major: "1", minor: "34", gitVersion: "v1.34.0", platform: "linux/amd64" };
        if (parts.length === 1 && parts[0] === "api") return { kind: "APIVersions", versions: ["v1"] };
        if (parts.length === 1 && parts[0] === "apis")
            return {
                kind: "APIGroupList",
                apiVersion: "v1",
                groups: groups.map((g) => {
                    const versions = [...new Set(RESOURCES.filter((r) => r.group === g).map((r) => r.version))].map(
                        (v) => ({ groupVersion: `${g}/${v}`, version: v }),
                    );
                    return { name: g, versions, preferredVersion: versions[0] };
                }),
            };
        const list = (group: string, version: string) => {
            const resources = RESOURCES.filter((r) => r.group === group && r.version === version);
            if (resources.length === 0) return undefined;
            return {
                kind: "APIResourceList",
                apiVersion: "v1",
                groupVersion: group ? `${group}/${version}` : version,
                resources: resources.map((r) => ({
                    name: r.resource,
                    singularName: r.kind.toLowerCase(),
                    namespaced: r.namespaced,
                    kind: r.kind,
                    verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
                })),
            };
        };
        if (parts.length === 2 && parts[0] === "api") return list("", parts[1]);
        if (parts.length === 3 && parts[0] === "apis") return list(parts[1], parts[2]);
        return undefined;
    }
}
