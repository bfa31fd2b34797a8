/**
 * What a Tekton Triggers EventListener does with one request, for the tests: per trigger, run its interceptors
 * (github: HMAC-SHA256 signature and event type; cel: the filter over body, header, requestURL and extensions),
 * resolve its bindings (`$(body.a.b[0])`, `$(header.Name)`, inline name/value), fill the TriggerTemplate's
 * params (defaults; a missing param without default is an error) and substitute `$(tt.params.x)` into its
 * resource templates. A failing interceptor or binding means the trigger does not fire.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { evalCel, type CelInput } from "./cel";
import type { Json } from "../../contract/json";

export interface Request {
    readonly body: string;
    readonly headers: Readonly<Record<string, string>>;
}

type Obj = Record<string, Json>;

/** Go's textproto canonical header key: X-GITHUB-event → X-Github-Event. */
export function canonicalHeader(name: string): string {
    return name
        .split("-")
        .map((w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase())
        .join("-");
}

/** GitHub's X-Hub-Signature-256 of a body. */
export function githubSignature(body: string, secret: string): string {
    return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/** Value at a binding path such as `body.alerts[0].startsAt`; strings as they are, anything else as JSON. */
export function resolvePath(path: string, root: Obj): string {
    const parts = path.match(/[^.[\]]+|\[\d+\]/g) ?? [];
    let cur: Json = root;
    for (const part of parts) {
        const key: string | number = part.startsWith("[") ? Number(part.slice(1, -1)) : part;
        if (cur === null || typeof cur !== "object" || !(key in cur)) throw new Error(`binding: no value at ${path}`);
        cur = cur[key];
    }
    return typeof cur === "string" ? cur : JSON.stringify(cur);
}

/** A binding value with every `$(body.…)` / `$(header.…)` / `$(extensions.…)` replaced. */
export function resolveBinding(value: string, event: Obj): string {
    return value.replace(/\$\(((?:body|header|extensions)(?:[.[][^)]*)?)\)/g, (_, p: string) => resolvePath(p, event));
}

function intercept(
    interceptor: Obj,
    req: Request,
    event: Obj,
    secrets: Readonly<Record<string, Record<string, string>>>,
): boolean {
    const params = Object.fromEntries(((interceptor.params ?? []) as Obj[]).map((p) => [p.name, p.value]));
    switch (interceptor.ref?.name) {
        case "github": {
            const ref = params.secretRef as { secretName: string; secretKey: string };
            const secret = secrets[ref.secretName]?.[ref.secretKey];
            if (secret === undefined) throw new Error(`secret ${ref.secretName}/${ref.secretKey} not found`);
            const types = params.eventTypes as string[] | undefined;
            const h = event.header as Record<string, string[]>;
            if (types && !types.includes(h["X-Github-Event"]?.[0] ?? "")) return false;
            const sig = h["X-Hub-Signature-256"]?.[0] ?? "";
            const want = githubSignature(req.body, secret);
            return sig.length === want.length && timingSafeEqual(Buffer.from(sig), Buffer.from(want));
        }
        case "cel": {
            try {
                return evalCel(params.filter as string, event as CelInput) === true;
            } catch {
                return false;
            }
        }
        default:
            throw new Error(`interceptor ${interceptor.ref?.name} is not simulated`);
    }
}

function substitute(node: unknown, params: Readonly<Record<string, string>>): unknown {
    if (typeof node === "string") {
        return node.replace(/\$\(tt\.params\.([A-Za-z0-9_-]+)\)/g, (_, k: string) => {
            if (!(k in params)) throw new Error(`template uses undeclared param ${k}`);
            return params[k];
        });
    }
    if (Array.isArray(node)) return node.map((n) => substitute(n, params));
    if (node && typeof node === "object")
        return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, substitute(v, params)]));
    return node;
}

export interface Fired {
    readonly trigger: string;
    readonly resources: Obj[];
}

/** The resources an EventListener creates for one request. */
export function fire(
    listener: Obj,
    objects: { bindings: Obj[]; templates: Obj[] },
    req: Request,
    secrets: Readonly<Record<string, Record<string, string>>> = {},
): Fired[] {
    const header = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [canonicalHeader(k), [v]]));
    const event = { body: JSON.parse(req.body), header, requestURL: "/", extensions: {} };
    const out: Fired[] = [];
    for (const t of listener.spec.triggers as Obj[]) {
        if (!(t.interceptors ?? []).every((i: Obj) => intercept(i, req, event, secrets))) continue;
        let bound: Record<string, string>;
        try {
            bound = Object.fromEntries(
                (t.bindings as Obj[]).flatMap((b) => {
                    if (b.ref) {
                        const tb = objects.bindings.find((x) => x.metadata.name === b.ref);
                        if (!tb) throw new Error(`TriggerBinding ${b.ref} not found`);
                        return (tb.spec.params as Obj[]).map((p) => [p.name, resolveBinding(p.value, event)]);
                    }
                    return [[b.name, resolveBinding(b.value, event)]];
                }),
            );
        } catch {
            continue;
        }
        const tt = objects.templates.find((x) => x.metadata.name === t.template.ref);
        if (!tt) throw new Error(`TriggerTemplate ${t.template.ref} not found`);
        const params: Record<string, string> = {};
        for (const p of tt.spec.params as Obj[]) {
            if (p.name in bound) params[p.name] = bound[p.name];
            else if ("default" in p) params[p.name] = p.default;
            else throw new Error(`trigger ${t.name}: template param ${p.name} has no value and no default`);
        }
        out.push({
            trigger: t.name,
            resources: tt.spec.resourcetemplates.map((r: Obj) => substitute(r, params) as Obj),
        });
    }
    return out;
}
