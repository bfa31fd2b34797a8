/**
 * The offline plan: `npm run plan [-- --stack <name>] [-- --out <dir>]`.
 *
 * Evaluates infra/index.ts's program under Pulumi's mock runtime with the stack's own Pulumi.<stack>.yaml, with no
 * cloud credentials, no Pulumi CLI and no network, prints what `pulumi up` would create, and writes the desired
 * state to out/<stack>/. Exit codes: 0 planned, 2 invalid configuration or arguments, 1 anything else.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { runAsScript, UsageError } from "./cli";
import { DASHBOARD_LABEL } from "../contract/names";
import type { Plan, PlannedResource } from "./mock-runtime";
import { PROJECT_ROOT, listStacks, loadStack, yaml } from "./stack";
import type { Json } from "../contract/json";

export interface PlanArgs {
    stack: string;
    outDir: string;
    quiet: boolean;
    /** Directory holding Pulumi.yaml and the stack files (default: this project). */
    projectDir: string;
}

export function parseArgs(argv: string[]): PlanArgs {
    const args: PlanArgs = {
        stack: "dev",
        outDir: path.join(PROJECT_ROOT, "out"),
        quiet: false,
        projectDir: PROJECT_ROOT,
    };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        const value = () => {
            const v = argv[++i];
            if (v === undefined || v.startsWith("--")) throw new UsageError(`${a} needs a value`);
            return v;
        };
        if (a === "--stack" || a === "-s") args.stack = value();
        else if (a.startsWith("--stack=")) args.stack = a.slice("--stack=".length);
        else if (a === "--out") args.outDir = path.resolve(value());
        else if (a === "--quiet") args.quiet = true;
        else if (a === "--project-dir") args.projectDir = path.resolve(value());
        else throw new UsageError(`unknown argument ${a}`);
    }
    return args;
}

export { UsageError };

export const USAGE = `Usage: npm run plan -- [--stack <name>] [--out <dir>] [--project-dir <dir>] [--quiet]

Evaluates the program under Pulumi's mock runtime with Pulumi.<stack>.yaml (no credentials, no Pulumi CLI, no
network), prints the resource tree, counts by type and the stack outputs, and writes the desired state to
<out>/<stack>/ (plan.json, manifests/, dashboards/).

Options:
  -s, --stack <name>     Stack to plan (default: dev)
  --out <dir>            Where to write the desired state (default: out)
  --project-dir <dir>    Directory with Pulumi.yaml and the stack files (default: this project)
  --quiet                Print no resource tree
  -h, --help             Show this help

Exit codes: 0 planned, 2 invalid configuration or arguments, 1 anything else.`;

/** Kubernetes object (apiVersion, kind, metadata, ...) from a `kubernetes:<group>/<version>:<Kind>` registration. */
export function toManifest(r: PlannedResource): Record<string, unknown> | undefined {
    const m = /^kubernetes:([^:]+):([^:]+)$/.exec(r.type);
    if (!m || !r.custom) return undefined;
    const [, groupVersion, kind] = m;
    if (groupVersion.startsWith("helm.sh/") || groupVersion === "kustomize" || groupVersion.startsWith("yaml"))
        return undefined;
    const apiVersion = groupVersion.startsWith("core/") ? groupVersion.slice("core/".length) : groupVersion;
    const { apiVersion: _a, kind: _k, ...rest } = r.inputs as Record<string, unknown>;
    return { apiVersion, kind, ...rest };
}

function manifestFileName(obj: Record<string, Json>, r: PlannedResource): string {
    const ns = obj.metadata?.namespace ?? "_cluster";
    const name = obj.metadata?.name ?? r.name;
    return `${ns}__${String(obj.kind).toLowerCase()}__${name}.yaml`.replace(/[^A-Za-z0-9_.-]/g, "-");
}

/** Dashboards are ConfigMaps labelled for the Grafana sidecar; each data key `<uid>.json` is one dashboard. */
export function dashboardsOf(plan: Plan): { file: string; json: string }[] {
    const out: { file: string; json: string }[] = [];
    for (const r of plan.resources) {
        if (r.type !== "kubernetes:core/v1:ConfigMap") continue;
        const inputs = r.inputs as { metadata?: { labels?: Record<string, string> }; data?: Record<string, string> };
        if (inputs.metadata?.labels?.[DASHBOARD_LABEL.key] !== DASHBOARD_LABEL.value) continue;
        for (const [key, json] of Object.entries(inputs.data ?? {}))
            if (key.endsWith(".json")) out.push({ file: key, json });
    }
    return out;
}

/**
 * The URNs a resource lived at before a refactoring moved it (its aliases to another parent or name): what `pulumi up`
 * will treat as the same resource. Aliases that differ only in type (the Kubernetes SDK's aliases to older API
 * versions) are left out.
 */
export function movedFrom(r: { urn: string; aliases: readonly string[] }): string[] {
    const placeAndName = (urn: string) => {
        const name = urn.slice(urn.lastIndexOf("::") + 2);
        const qualifiedType = urn.slice(0, urn.lastIndexOf("::")).split("::").pop()!;
        return `${qualifiedType.slice(0, Math.max(0, qualifiedType.lastIndexOf("$")))}::${name}`;
    };
    return [...new Set(r.aliases)].filter((a) => placeAndName(a) !== placeAndName(r.urn));
}

/** Writes plan.json, manifests/ and dashboards/ under outDir/<stack>/, replacing what a previous run wrote. */
export function writePlan(plan: Plan, cloud: string, outDir: string): string {
    const dir = path.join(outDir, plan.stack);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(path.join(dir, "manifests"), { recursive: true });
    fs.mkdirSync(path.join(dir, "dashboards"), { recursive: true });
    const doc = {
        project: plan.project,
        stack: plan.stack,
        cloud,
        resources: plan.resources.map((r) => ({
            urn: r.urn,
            type: r.type,
            name: r.name,
            parent: r.parent,
            custom: r.custom,
            inputs: r.inputs,
            protect: r.protect,
            retainOnDelete: r.retainOnDelete,
            ignoreChanges: r.ignoreChanges,
            dependsOn: r.dependsOn,
            provider: r.provider ?? (Object.keys(r.providers).length > 0 ? r.providers : null),
            ...(movedFrom(r).length > 0 ? { movedFrom: movedFrom(r) } : {}),
        })),
        outputs: plan.outputs,
    };
    fs.writeFileSync(path.join(dir, "plan.json"), JSON.stringify(doc, null, 2) + "\n");
    const { stringify } = yaml();
    for (const r of plan.resources) {
        const obj = toManifest(r);
        if (obj)
            fs.writeFileSync(path.join(dir, "manifests", manifestFileName(obj, r)), stringify(obj, { lineWidth: 0 }));
    }
    for (const d of dashboardsOf(plan))
        fs.writeFileSync(path.join(dir, "dashboards", d.file), JSON.stringify(JSON.parse(d.json), null, 2) + "\n");
    return dir;
}

/** The resource tree as indented lines: `type  name`, children under their parent. */
export function renderTree(plan: Plan): string[] {
    const children = new Map<string | null, PlannedResource[]>();
    for (const r of plan.resources) {
        const key = r.parent && plan.resources.some((p) => p.urn === r.parent) ? r.parent : null;
        children.set(key, [...(children.get(key) ?? []), r]);
    }
    const lines: string[] = [];
    const walk = (parent: string | null, prefix: string) => {
        const list = [...(children.get(parent) ?? [])].sort((a, b) => a.name.localeCompare(b.name));
        list.forEach((r, i) => {
            const last = i === list.length - 1;
            const flags = [
                r.protect ? "protected" : "",
                r.retainOnDelete ? "retained" : "",
                r.ignoreChanges.length ? `ignores ${r.ignoreChanges.join(",")}` : "",
            ].filter(Boolean);
            lines.push(
                `${prefix}${last ? "└─ " : "├─ "}${r.type}  ${r.name}${flags.length ? `  [${flags.join("; ")}]` : ""}`,
            );
            walk(r.urn, prefix + (last ? "   " : "│  "));
        });
    };
    walk(null, "");
    return lines;
}

export function countsByType(plan: Plan): [string, number][] {
    const counts = new Map<string, number>();
    for (const r of plan.resources) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
    return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

async function main(argv: readonly string[]): Promise<number> {
    const args = parseArgs([...argv]);
    const stacks = listStacks(args.projectDir);
    if (!stacks.includes(args.stack))
        throw new UsageError(
            `no stack "${args.stack}": Pulumi.${args.stack}.yaml does not exist; stacks: ${stacks.join(", ")}`,
        );
    const stack = loadStack(args.stack, {}, args.projectDir);
    // Loaded once the arguments are good: the program loads the whole SDK, which --help needs not.
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { ConfigError } = require("../infra/config") as typeof import("../infra/config");
    const { program } = require("../infra/program") as typeof import("../infra/program");
    const { runProgram } = require("./mock-runtime") as typeof import("./mock-runtime");
    /* eslint-enable @typescript-eslint/no-require-imports */
    let plan: Plan;
    try {
        plan = await runProgram(program as unknown as () => Promise<Record<string, unknown>>, stack);
    } catch (err) {
        if (err instanceof ConfigError) {
            process.stderr.write(`${err.message}\n`);
            return 2;
        }
        throw err;
    }
    const cloud = String(plan.outputs.cloud ?? "unknown");
    const dir = writePlan(plan, cloud, args.outDir);
    const out: string[] = [];
    out.push(
        `Offline plan of stack "${plan.stack}" (project ${plan.project}, cloud ${cloud}): what \`pulumi up\` would create.`,
    );
    out.push("Rendered under Pulumi's mock runtime from this stack's config: no credentials, no cloud calls.");
    out.push("");
    if (!args.quiet) {
        out.push(...renderTree(plan));
        out.push("");
    }
    out.push(`Resources by type (${plan.resources.length} in all):`);
    for (const [type, n] of countsByType(plan)) out.push(`  ${String(n).padStart(4)}  ${type}`);
    out.push("");
    out.push("Stack outputs ([computed] = known only after deployment, [secret] = stored encrypted):");
    for (const [key, value] of Object.entries(plan.outputs)) out.push(`  ${key}: ${JSON.stringify(value)}`);
    out.push("");
    out.push(
        `Desired state written to ${path.relative(process.cwd(), dir) || dir}/ (plan.json, manifests/, dashboards/).`,
    );
    process.stdout.write(out.join("\n") + "\n");
    return 0;
}

runAsScript(module, USAGE, main, "plan failed");
