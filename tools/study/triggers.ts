/**
 * What a Tekton Triggers EventListener does with one request, for the tests: per trigger, run its interceptors
 * (github: event type and HMAC signature; cel: the filter over body, header, requestURL and extensions),
 * resolve its bindings (`$(body.a.b[0])`, `$(header.Name)`, inline name/value), fill the TriggerTemplate's
 * params (defaults; a missing param without default is an error) and substitute `$(tt.params.x)` into its
 * resource templates. A failing interceptor or binding means the trigger does not fire.
 *
 * The github interceptor is modelled on Tekton Triggers v0.37 (pkg/interceptors/github/github.go, with
 * go-github v31's ValidateSignature and the interceptors' SecretGetter): it refuses form-encoded bodies and event
 * types outside `eventTypes`; only when `secretRef` is set does it check the signature, and then a missing
 * X-Hub-Signature-256 header, an empty secretKey, a Secret or key that is not there in the trigger's namespace,
 * an unknown hash prefix, bad hex or a wrong HMAC of the exact body all fail it. Without `secretRef` it lets every
 * request through, as upstream does.
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

/** A Kubernetes Secret as the EventListener's namespace holds it (`data` base64, or `stringData` as applied). */
export interface SecretObject {
    readonly metadata: { readonly name: string; readonly namespace: string };
    readonly data?: Readonly<Record<string, string>>;
    readonly stringData?: Readonly<Record<string, string>>;
}

/** The SecretGetter: the key's bytes of the named Secret in the trigger's namespace, or undefined. */
function secretValue(
    secrets: readonly SecretObject[],
    namespace: string,
    name: string,
    key: string,
): Buffer | undefined {
    const s = secrets.find((x) => x.metadata.name === name && x.metadata.namespace === namespace);
    if (s?.stringData && key in s.stringData) return Buffer.from(s.stringData[key], "utf8");
    if (s?.data && key in s.data) return Buffer.from(s.data[key], "base64");
    return undefined;
}

/** go-github's ValidateSignature: `<sha1|sha256|sha512>=<hex HMAC of the body>`. */
const SIGNATURE_HASHES: Readonly<Record<string, string>> = { sha1: "sha1", sha256: "sha256", sha512: "sha512" };
function validSignature(signature: string, body: string, secret: Buffer): boolean {
    const eq = signature.indexOf("=");
    if (eq < 0) return false;
    const hash = SIGNATURE_HASHES[signature.slice(0, eq)];
    const hex = signature.slice(eq + 1);
    if (!hash || !/^(?:[0-9a-fA-F]{2})*$/.test(hex)) return false;
    const given = Buffer.from(hex, "hex");
    const want = createHmac(hash, secret).update(body, "utf8").digest();
    return given.length === want.length && timingSafeEqual(given, want);
}

function githubInterceptor(
    params: Record<string, Json>,
    req: Request,
    header: Record<string, string[]>,
    namespace: string,
    secrets: readonly SecretObject[],
): boolean {
    if (header["Content-Type"]?.[0] === "application/x-www-form-urlencoded") return false;
    const event = header["X-Github-Event"]?.[0] ?? "";
    if (params.eventTypes !== undefined && !(params.eventTypes as string[]).includes(event)) return false;
    const ref = params.secretRef as { secretName?: string; secretKey?: string } | undefined;
    if (ref === undefined) return true;
    if (!ref.secretKey) return false;
    const signature = header["X-Hub-Signature-256"]?.[0] ?? "";
    if (signature === "") return false;
    const secret = secretValue(secrets, namespace, ref.secretName ?? "", ref.secretKey);
    return secret !== undefined && validSignature(signature, req.body, secret);
}

function intercept(
    interceptor: Obj,
    req: Request,
    event: Obj,
    namespace: string,
    secrets: readonly SecretObject[],
): boolean {
    const params = Object.fromEntries(((interceptor.params ?? []) as Obj[]).map((p) => [p.name, p.value]));
    switch (interceptor.ref?.name) {
        case "github":
            return githubInterceptor(params, req, event.header, namespace, secrets);
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

/** The resources an EventListener creates for one request; `secrets` are the Secrets of the cluster. */
export function fire(
    listener: Obj,
    objects: { bindings: Obj[]; templates: Obj[] },
    req: Request,
    secrets: readonly SecretObject[] = [],
): Fired[] {
    const header = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [canonicalHeader(k), [v]]));
    const event = { body: JSON.parse(req.body), header, requestURL: "/", extensions: {} };
    const out: Fired[] = [];
    for (const t of listener.spec.triggers as Obj[]) {
        const namespace = String(listener.metadata.namespace);
        if (!(t.interceptors ?? []).every((i: Obj) => intercept(i, req, event, namespace, secrets))) continue;
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
