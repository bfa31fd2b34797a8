/**
 * The Kubernetes objects of a stack's offline plan, in the order `pulumi up` would create them (the plan's
 * dependencies), and which of them cannot exist here and why.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { SECRET_PLACEHOLDER } from "../mock-runtime";
import { PROJECT_ROOT } from "../stack";
import { GROUPS_WITHOUT_CRDS } from "./crds";
import type { PlanResource } from "./nodes";
import type { Json } from "../../contract/json";

export interface StackPlan {
    readonly stack: string;
    readonly cloud: string;
    readonly resources: readonly PlanResource[];
    readonly dir: string;
}

/**
 * Runs `npm run plan -- --stack <stack> --out <outDir> --quiet`, as a user would, and reads what it wrote;
 * `projectDir` plans a stack file from another directory (`--project-dir`).
 */
export function planStack(stack: string, outDir: string, projectDir?: string): StackPlan {
    const extra = projectDir ? ["--project-dir", projectDir] : [];
    execFileSync("npm", ["run", "--silent", "plan", "--", "--stack", stack, "--out", outDir, "--quiet", ...extra], {
        cwd: PROJECT_ROOT,
        stdio: ["ignore", "ignore", "inherit"],
    });
    const dir = path.join(outDir, stack);
    const plan = JSON.parse(fs.readFileSync(path.join(dir, "plan.json"), "utf8")) as {
        cloud: string;
        resources: PlanResource[];
    };
    return { stack, cloud: plan.cloud, resources: plan.resources, dir };
}

/** Why a planned object is not applied here. */
export interface Skipped {
    readonly object: string;
    readonly reason: string;
}

export interface PlannedObject {
    readonly urn: string;
    /** The manifest file the plan wrote. */
    readonly file: string;
    readonly object: Record<string, Json>;
}

const SKIP_REASONS = {
    crd: "its CRD (Tekton) is not served by the Go module proxy, so the API has no such kind",
    configMapPatch:
        "a Pulumi ConfigMapPatch of the Tekton release's config-observability ConfigMap; the release manifest is a URL and its module is not served, so the ConfigMap it patches does not exist",
} as const;

function groupOf(apiVersion: string): string {
    return apiVersion.includes("/") ? apiVersion.split("/")[0] : "";
}

/** The manifest files the plan wrote, by `<namespace>__<kind>__<name>`, read back as objects. */
function manifests(dir: string): Map<string, Record<string, Json>> {
    const out = new Map<string, Record<string, Json>>();
    for (const f of fs.readdirSync(path.join(dir, "manifests")))
        out.set(f, parse(fs.readFileSync(path.join(dir, "manifests", f), "utf8")));
    return out;
}

/** The plan's file name of a resource's object, as tools/plan.ts names it. */
function fileName(obj: Record<string, Json>, r: PlanResource): string {
    const ns = obj.metadata?.namespace ?? "_cluster";
    return `${ns}__${String(obj.kind).toLowerCase()}__${obj.metadata?.name ?? r.name}.yaml`.replace(
        /[^A-Za-z0-9_.-]/g,
        "-",
    );
}

/**
 * Kubernetes resources of the plan in dependency order: each after everything it depends on (through components
 * and resources that are not Kubernetes objects too), otherwise in registration order.
 */
export function dependencyOrder(resources: readonly PlanResource[]): PlanResource[] {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const deps = new Map<string, Set<string>>();
    for (const r of resources) deps.set(r.urn, new Set(r.dependsOn.filter((u) => byUrn.has(u))));
    const done = new Set<string>();
    const order: PlanResource[] = [];
    while (order.length < resources.length) {
        const next = resources.find((r) => !done.has(r.urn) && [...deps.get(r.urn)!].every((u) => done.has(u)));
        if (!next) {
            const stuck = resources.filter((r) => !done.has(r.urn)).map((r) => r.name);
            throw new Error(`dependency cycle among ${stuck.slice(0, 10).join(", ")}`);
        }
        done.add(next.urn);
        order.push(next);
    }
    return order;
}

/** The objects to apply, in order, and the ones left out with the reason. */
export function planObjects(plan: StackPlan): { apply: PlannedObject[]; skipped: Skipped[] } {
    const files = manifests(plan.dir);
    const apply: PlannedObject[] = [];
    const skipped: Skipped[] = [];
    const seen = new Set<string>();
    for (const r of dependencyOrder(plan.resources)) {
        const m = /^kubernetes:([^:]+):([^:]+)$/.exec(r.type);
        if (!m || !r.custom || m[1].startsWith("helm.sh/") || m[1].startsWith("yaml") || m[1] === "kustomize") continue;
        const obj0 = { apiVersion: m[1].replace(/^core\//, ""), kind: m[2], metadata: r.inputs.metadata };
        const file = fileName(obj0, r);
        const written = files.get(file);
        if (!written) throw new Error(`${r.urn}: the plan wrote no ${file}`);
        seen.add(file);
        const label = file.replace(/\.yaml$/, "");
        if (GROUPS_WITHOUT_CRDS.includes(groupOf(written.apiVersion) as (typeof GROUPS_WITHOUT_CRDS)[number])) {
            skipped.push({ object: label, reason: SKIP_REASONS.crd });
            continue;
        }
        if (written.kind === "ConfigMapPatch") {
            skipped.push({ object: label, reason: SKIP_REASONS.configMapPatch });
            continue;
        }
        apply.push({ urn: r.urn, file, object: resolvePlaceholders(written, r) });
    }
    const unread = [...files.keys()].filter((f) => !seen.has(f));
    if (unread.length > 0) throw new Error(`manifests without a planned resource: ${unread.join(", ")}`);
    return { apply, skipped };
}

/**
 * What only a deployment fills in: a name Pulumi generates (the plan's mock names it `<resource>-example`, and
 * references to it use that), and the data of Secrets, which the plan never writes (their keys and values are
 * secret). Any other placeholder is an error.
 */
export function resolvePlaceholders(obj: Record<string, Json>, r: PlanResource): Record<string, Json> {
    const out = structuredClone(obj);
    out.metadata = { ...(out.metadata ?? {}) };
    if (!out.metadata.name) out.metadata.name = `${r.name}-example`;
    if (out.kind === "Secret") {
        for (const key of ["data", "stringData"]) if (out[key] === SECRET_PLACEHOLDER) delete out[key];
    }
    const left = JSON.stringify(out).includes(`"${SECRET_PLACEHOLDER}"`);
    if (left) throw new Error(`${r.urn}: a secret placeholder outside a Secret's data`);
    return out;
}

/**
 * A copy of the project's Pulumi.yaml and a stack file with some `mlops-testbed:` keys changed (nested objects are
 * merged), in a new directory for `planStack(..., projectDir)`.
 */
export function stackVariant(stack: string, dir: string, change: Record<string, Record<string, unknown>>): string {
    fs.mkdirSync(dir, { recursive: true });
    fs.copyFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    const doc = parse(fs.readFileSync(path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`), "utf8")) as {
        config: Record<string, Json>;
    };
    const merge = (a: Record<string, Json>, b: Record<string, Json>): Record<string, Json> =>
        Object.fromEntries(
            [...new Set([...Object.keys(a), ...Object.keys(b)])].map((k) => [
                k,
                b[k] && typeof b[k] === "object" && !Array.isArray(b[k]) && a[k] && typeof a[k] === "object"
                    ? merge(a[k], b[k])
                    : (b[k] ?? a[k]),
            ]),
        );
    for (const [key, value] of Object.entries(change))
        doc.config[`mlops-testbed:${key}`] = merge(doc.config[`mlops-testbed:${key}`] ?? {}, value);
    fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), stringify(doc));
    return dir;
}
