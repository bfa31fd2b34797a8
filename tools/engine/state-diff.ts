/**
 * What the engine did compared with the offline plan: values the provider or the API server filled in, inputs the
 * provider rewrote, secrets in the backend's files, the engine's own diagnostics. Pure functions over exported
 * state and plans (test/engine.spec.ts checks them).
 */
import * as fs from "node:fs";
import * as path from "node:path";
/** What the functions read of a plan (plan.json or the mock runtime's Plan). */
export interface PlanLike {
    readonly resources: readonly { readonly urn: string; readonly inputs: Record<string, unknown> }[];
}

/** Metadata every API server sets on every object: reported once, not per object. */
export const SERVER_METADATA = [
    "metadata.creationTimestamp",
    "metadata.generation",
    "metadata.managedFields",
    "metadata.resourceVersion",
    "metadata.uid",
] as const;

/** Dotted paths present in `actual` and absent from `planned` (values the provider or the server filled in). */
export function outputOnlyPaths(
    actual: Record<string, unknown>,
    planned: Record<string, unknown>,
    prefix = "",
): string[] {
    const out: string[] = [];
    for (const [k, v] of Object.entries(actual)) {
        if (k.startsWith("__")) continue;
        const p = prefix ? `${prefix}.${k}` : k;
        const q = planned[k];
        if (!(k in planned)) out.push(p);
        else if (isObject(v) && isObject(q)) out.push(...outputOnlyPaths(v, q, p));
    }
    return out;
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object" && !Array.isArray(v);

/**
 * What the engine's state holds beyond the planned inputs, by resource type: one line per type with the paths
 * its objects gained (server metadata left out), e.g. a Service's clusterIP or a Secret's `data`.
 */
export function stateBeyondPlan(plan: PlanLike, stateResources: readonly StateResource[]): string[] {
    const planned = new Map(plan.resources.map((r) => [r.urn, r]));
    const byType = new Map<string, Set<string>>();
    for (const r of stateResources) {
        const p = planned.get(r.urn);
        if (!p || !r.custom || r.type.startsWith("pulumi:providers:")) continue;
        const paths = outputOnlyPaths(r.outputs ?? {}, p.inputs).filter(
            (x) => !(SERVER_METADATA as readonly string[]).includes(x),
        );
        const set = byType.get(r.type) ?? new Set<string>();
        for (const x of paths) set.add(x);
        byType.set(r.type, set);
    }
    return [...byType.entries()]
        .filter(([, paths]) => paths.size > 0)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([type, paths]) => `${type}: ${[...paths].sort().join(", ")}`);
}

/**
 * How the provider's Check changed the planned inputs before they were stored, by resource type: paths the plan had
 * and the state's inputs lack (`-`), paths only the state's inputs have (`+`), values that differ (`~`).
 * Kubernetes objects only: a provider's own inputs differ by design (the SDK adds its version).
 */
export function inputsChangedByProvider(plan: PlanLike, stateResources: readonly StateResource[]): string[] {
    const planned = new Map(plan.resources.map((r) => [r.urn, r]));
    const byType = new Map<string, Set<string>>();
    const walk = (state: unknown, want: unknown, p: string, out: Set<string>) => {
        if (isObject(state) && isObject(want)) {
            for (const k of new Set([...Object.keys(state), ...Object.keys(want)])) {
                if (k.startsWith("__")) continue;
                const q = p ? `${p}.${k}` : k;
                if (!(k in state)) out.add(`-${q}`);
                else if (!(k in want)) out.add(`+${q}`);
                else walk(state[k], want[k], q, out);
            }
        } else if (JSON.stringify(state) !== JSON.stringify(want)) out.add(`~${p}`);
    };
    for (const r of stateResources) {
        const p = planned.get(r.urn);
        if (!p || !r.custom || !r.type.startsWith("kubernetes:")) continue;
        const set = byType.get(r.type) ?? new Set<string>();
        walk(r.inputs ?? {}, p.inputs, "", set);
        byType.set(r.type, set);
    }
    return [...byType.entries()]
        .filter(([, paths]) => paths.size > 0)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([type, paths]) => `${type}: ${[...paths].sort().join(", ")}`);
}

/**
 * Dotted paths at which two property maps differ, as `-path` (only in `before`), `+path` (only in `after`) and
 * `~path` (a different value); arrays are compared whole. Keys starting with `__` are left out.
 */
export function differingPaths(before: unknown, after: unknown, prefix = ""): string[] {
    if (isObject(before) && isObject(after)) {
        const out: string[] = [];
        for (const k of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
            if (k.startsWith("__")) continue;
            const p = prefix ? `${prefix}.${k}` : k;
            if (!(k in after)) out.push(`-${p}`);
            else if (!(k in before)) out.push(`+${p}`);
            else out.push(...differingPaths(before[k], after[k], p));
        }
        return out;
    }
    return JSON.stringify(before) === JSON.stringify(after) ? [] : [`~${prefix}`];
}

/** A resource of an exported deployment, as far as the checks read it. */
export interface StateResource {
    readonly urn: string;
    readonly type: string;
    readonly custom?: boolean;
    readonly inputs?: Record<string, unknown>;
    readonly outputs?: Record<string, unknown>;
}

/** Files under a folder whose text contains any of `needles`. */
export function filesContaining(dir: string, needles: readonly string[]): string[] {
    return fs
        .readdirSync(dir, { recursive: true })
        .map((f) => path.join(dir, String(f)))
        .filter((f) => fs.statSync(f).isFile())
        .filter((f) => {
            const text = fs.readFileSync(f, "latin1");
            return needles.some((n) => text.includes(n) || text.includes(Buffer.from(n).toString("base64")));
        });
}

/** The Diagnostics section of a failed CLI command's output (where the engine says what went wrong), else its end. */
export function diagnostics(output: string): string {
    const start = output.indexOf("Diagnostics:");
    if (start < 0) return output.split("\n").slice(-15).join("\n");
    const rest = output.slice(start);
    const end = rest.search(/\n(Outputs|Resources):/);
    return (end < 0 ? rest : rest.slice(0, end)).trim();
}
