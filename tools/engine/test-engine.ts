/**
 * The real Pulumi engine on this machine: `npm run test:engine [-- --kubeconfig <file>] [--keep] [--scratch <dir>]`.
 *
 * Builds (or reuses) the engine from upstream modules, creates a throwaway stack on a local file backend with a
 * passphrase, whose stack file is the project's Pulumi.existing-example.yaml, and drives the program of
 * tools/engine/proof.ts (the model layer of the real program; see there why not all of it yet) through:
 *
 *   up → preview --expect-no-changes → (on a cluster) refresh --expect-no-changes, preview → add a model version
 *   (preview, up, re-preview) → remove it (preview, up) → destroy
 *
 * Each step must touch exactly what the offline plan of the same program predicts (creates of the new version's
 * objects, deletes of the removed version's, nothing else), every re-preview must be empty, and no secret may reach
 * the state file in plaintext. With --kubeconfig the provider talks to that cluster and the API server is asked
 * what it holds after each step; without, the provider renders YAML files (renderYamlToDirectory), which needs no
 * cluster, and the files are counted. Prints the timing and resource counts of every step, the engine's warnings,
 * what the engine's state holds beyond the offline plan, and a closing `engine: N passed, M failed` line.
 * Exit codes: 0 every check passed, 1 a check failed or a step threw, 2 bad arguments.
 */
import { spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { OpMap, Stack } from "@pulumi/pulumi/automation";
import { parse, stringify } from "yaml";
import { modelNamespaceName } from "../../contract/config/models";
import { UsageError, runTool } from "../cli";
import type { Plan, PlannedResource } from "../mock-runtime";
import { PROJECT_ROOT } from "../stack";
import { buildEngine } from "./build";
import { EventLog, createScratchStack } from "./harness";
import { namespaceNames } from "./kube-api";
import { PROOF_CONFIG_NAMESPACE, PROOF_KEYS, proofProgram, type ProofTarget } from "./proof";

const PROJECT = "mlops-testbed";
const STACK = "engine";
const BASE_STACK_FILE = "Pulumi.existing-example.yaml";
/** The model and version the config-change steps add and remove. */
const ADDED = { model: "iris", version: "v3" } as const;

export interface EngineTestArgs {
    readonly kubeconfig?: string;
    readonly keep: boolean;
    readonly scratch?: string;
}

const USAGE = `Usage: npm run test:engine -- [--kubeconfig <file>] [--keep] [--scratch <dir>]

Runs the real Pulumi engine (npm run engine:build) on a throwaway local stack of the example existing-cluster
config: up, previews that must be empty, a model version added and removed, destroy. It prints each step's figures
and "engine: N passed, M failed". Without --kubeconfig the provider renders YAML and no cluster is needed.

  --kubeconfig <file>   apply to the cluster of this kubeconfig (server-side apply)
  --keep                keep the stack and its scratch folder afterwards
  --scratch <dir>       use this scratch folder (never deleted) instead of a new temporary one
  -h, --help            show this help
`;

/** The test's options; a problem is a UsageError (exit 2 with the usage). */
export function parseArgs(argv: readonly string[]): EngineTestArgs {
    let kubeconfig: string | undefined;
    let scratch: string | undefined;
    let keep = false;
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        const value = () => {
            const v = argv[++i];
            if (v === undefined || v.startsWith("--")) throw new UsageError(`${a} needs a value`);
            return v;
        };
        if (a === "--kubeconfig") kubeconfig = path.resolve(value());
        else if (a === "--scratch") scratch = path.resolve(value());
        else if (a === "--keep") keep = true;
        else {
            throw new UsageError(`unknown argument ${a}`);
        }
    }
    return { kubeconfig, keep, scratch };
}

/** The example stack's config, the models extended by `extra` versions; the placeholder kubeconfig left out. */
export function stackConfig(extra: readonly { model: string; version: string }[] = []): Record<string, unknown> {
    const doc = parse(fs.readFileSync(path.join(PROJECT_ROOT, BASE_STACK_FILE), "utf8")) as {
        config: Record<string, unknown>;
    };
    const config = { ...doc.config };
    delete config[`${PROJECT}:kubeconfig`];
    const models = structuredClone(config[`${PROJECT}:models`]) as { name: string; versions: { name: string }[] }[];
    for (const e of extra) {
        const model = models.find((m) => m.name === e.model);
        if (!model) throw new Error(`the example stack has no model ${e.model}`);
        model.versions.push({ name: e.version });
    }
    config[`${PROJECT}:models`] = models;
    return config;
}

/** URNs of the model layer in a plan: every ModelVersionNamespace and what it parents. */
export function modelLayerUrns(plan: Pick<Plan, "resources">): Set<string> {
    const byParent = new Map<string, PlannedResource[]>();
    for (const r of plan.resources) {
        if (r.parent) byParent.set(r.parent, [...(byParent.get(r.parent) ?? []), r]);
    }
    const out = new Set<string>();
    const walk = (urn: string) => {
        out.add(urn);
        for (const child of byParent.get(urn) ?? []) walk(child.urn);
    };
    for (const r of plan.resources) if (r.type === "mlops-testbed:k8s:ModelVersionNamespace") walk(r.urn);
    return out;
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
export function stateBeyondPlan(plan: Pick<Plan, "resources">, stateResources: readonly StateResource[]): string[] {
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
export function inputsChangedByProvider(
    plan: Pick<Plan, "resources">,
    stateResources: readonly StateResource[],
): string[] {
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

/** A resource of an exported deployment, as far as the checks read it. */
export interface StateResource {
    readonly urn: string;
    readonly type: string;
    readonly custom?: boolean;
    readonly inputs?: Record<string, unknown>;
    readonly outputs?: Record<string, unknown>;
}

/** The offline plan of the proof program for the scratch stack file, from a child process (proof-plan.ts). */
function offlinePlan(projectDir: string, outFile: string): Plan {
    const r = spawnSync(
        process.execPath,
        [
            "--import",
            "tsx",
            path.join(__dirname, "proof-plan.ts"),
            "--project-dir",
            projectDir,
            "--stack",
            STACK,
            "--out",
            outFile,
        ],
        { cwd: PROJECT_ROOT, encoding: "utf8" },
    );
    if (r.status !== 0) throw new Error(`the offline plan failed (${r.status}):\n${r.stdout}${r.stderr}`);
    return JSON.parse(fs.readFileSync(outFile, "utf8")) as Plan;
}

/** Rewrites the stack file's models with the example's plus `extra` (the CLI reads the file on every operation). */
function setModels(projectDir: string, extra: readonly { model: string; version: string }[]): void {
    const key = `${PROJECT}:models`;
    const file = path.join(projectDir, `Pulumi.${STACK}.yaml`);
    const doc = parse(fs.readFileSync(file, "utf8")) as { config: Record<string, unknown> };
    doc.config[key] = stackConfig(extra)[key];
    fs.writeFileSync(file, stringify(doc));
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

function renderedFiles(dir: string): string[] {
    return fs.existsSync(dir)
        ? fs
              .readdirSync(dir, { recursive: true })
              .map(String)
              .filter((f) => f.endsWith(".yaml"))
        : [];
}

/** The Diagnostics section of a failed CLI command's output (where the engine says what went wrong), else its end. */
export function diagnostics(output: string): string {
    const start = output.indexOf("Diagnostics:");
    if (start < 0) return output.split("\n").slice(-15).join("\n");
    const rest = output.slice(start);
    const end = rest.search(/\n(Outputs|Resources):/);
    return (end < 0 ? rest : rest.slice(0, end)).trim();
}

/** One row of the step table. */
interface StepRow {
    step: string;
    seconds: number;
    counts: OpMap;
}

function countOf(counts: OpMap | undefined, op: keyof OpMap): number {
    return counts?.[op] ?? 0;
}

function printRows(rows: readonly StepRow[]): void {
    console.log("");
    console.log(`${"step".padEnd(46)}seconds  create update delete same`);
    for (const r of rows) {
        const c = (op: keyof OpMap) => String(countOf(r.counts, op)).padStart(6);
        const same = String(countOf(r.counts, "same")).padStart(4);
        console.log(
            `${r.step.padEnd(46)}${r.seconds.toFixed(1).padStart(7)} ${c("create")} ${c("update")} ${c("delete")} ${same}`,
        );
    }
}

const sorted = (s: Iterable<string>) => [...s].sort();
const sameSet = (a: Set<string>, b: Set<string>) => sorted(a).join("\n") === sorted(b).join("\n");

async function main(argv: readonly string[]): Promise<number> {
    const args = parseArgs(argv);
    const checks: { name: string; ok: boolean }[] = [];
    const check = (name: string, ok: boolean, detail = "") => {
        checks.push({ name, ok });
        console.log(`${ok ? "ok  " : "FAIL"} ${name}${detail ? `: ${detail}` : ""}`);
    };
    const rows: StepRow[] = [];
    const warnings = new Set<string>();
    const timed = async <T>(step: string, f: () => Promise<T>, counts: (r: T) => OpMap | undefined): Promise<T> => {
        const started = Date.now();
        const result = await f();
        rows.push({ step, seconds: (Date.now() - started) / 1000, counts: counts(result) ?? {} });
        return result;
    };
    const logged = () => {
        const log = new EventLog();
        return {
            log,
            onEvent: (e: Parameters<EventLog["record"]>[0]) => {
                log.record(e);
                if (e.diagnosticEvent?.severity === "warning") warnings.add(e.diagnosticEvent.message.trim());
            },
        };
    };

    const built = buildEngine({ log: (l) => console.log(`[build] ${l}`) });
    const missing = built.filter((o) => (o.piece === "cli" || o.piece === "kubernetes") && !("record" in o));
    if (missing.length > 0) throw new Error(`engine pieces not built: ${missing.map((m) => m.piece).join(", ")}`);

    const root = args.scratch ?? fs.mkdtempSync(path.join(os.tmpdir(), "mlops-testbed-engine-"));
    const renderDir = path.join(root, "rendered");
    const kubeconfig = args.kubeconfig ? fs.readFileSync(args.kubeconfig, "utf8") : undefined;
    const target: ProofTarget = kubeconfig ? { kind: "cluster", kubeconfig } : { kind: "render", directory: renderDir };
    console.log(`scratch: ${root}; backend file://${path.join(root, "backend")}`);
    console.log(`target: ${args.kubeconfig ? `the cluster of ${args.kubeconfig}` : `YAML files in ${renderDir}`}`);

    // The stand-in store keys (proof.ts), generated here as the random provider would generate them.
    const storeKeys = {
        [PROOF_KEYS.accessKey]: crypto.randomBytes(15).toString("hex").toUpperCase(),
        [PROOF_KEYS.secretKey]: crypto.randomBytes(30).toString("base64url"),
    };
    const stack: Stack = await timed(
        "stack init + config",
        () =>
            createScratchStack({
                root,
                project: PROJECT,
                stack: STACK,
                program: proofProgram(target),
                providers: ["kubernetes"],
                config: stackConfig(),
                secrets: {
                    [`${PROJECT}:kubeconfig`]: kubeconfig ?? "rendered: no cluster",
                    ...Object.fromEntries(
                        Object.entries(storeKeys).map(([k, v]) => [`${PROOF_CONFIG_NAMESPACE}:${k}`, v]),
                    ),
                },
            }),
        () => undefined,
    );
    const projectDir = path.join(root, "project");
    const plan = offlinePlan(projectDir, path.join(root, "plan.json"));
    const planned = new Set(plan.resources.map((r) => r.urn));
    const stackUrn = `urn:pulumi:${STACK}::${PROJECT}::pulumi:pulumi:Stack::${PROJECT}-${STACK}`;
    const objectCount = (p: Plan) => p.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:")).length;
    const baseNamespaces = (
        stackConfig()[`${PROJECT}:models`] as { name: string; versions: { name: string }[] }[]
    ).flatMap((m) => m.versions.map((v) => modelNamespaceName(m.name, v.name)));
    const addedNamespace = modelNamespaceName(ADDED.model, ADDED.version);
    const previewOps = (log: EventLog, op: string) =>
        new Set(
            log.events.flatMap((e) =>
                e.resourcePreEvent?.metadata.op === op ? [e.resourcePreEvent.metadata.urn] : [],
            ),
        );
    const noChanges = (name: string, after: string) => {
        const { onEvent } = logged();
        return timed(
            `preview --expect-no-changes (${after})`,
            () => stack.preview({ expectNoChanges: true, onEvent }),
            (r) => r.changeSummary,
        ).then(
            () => check(name, true),
            (e: Error) => check(name, false, diagnostics(e.message)),
        );
    };
    /** In cluster mode: which of the namespaces `expected`/`absent` the API server holds as expected. */
    const clusterHas = async (when: string, present: readonly string[], absent: readonly string[]) => {
        if (!kubeconfig) return;
        const names = new Set(await namespaceNames(kubeconfig));
        const wrong = [...present.filter((n) => !names.has(n)), ...absent.filter((n) => names.has(n))];
        check(
            `${when}: the API server holds ${present.join(", ") || "no model namespace"}${absent.length ? `, not ${absent.join(", ")}` : ""}`,
            wrong.length === 0,
            wrong.length ? `wrong: ${wrong.join(", ")}` : "",
        );
    };

    try {
        // 1. up: exactly the planned resources (and the stack itself) are created
        const upEvents = logged();
        const up = await timed(
            "up",
            () => stack.up({ onEvent: upEvents.onEvent }),
            (r) => r.summary.resourceChanges,
        );
        const created = new Set(
            upEvents.log
                .steps()
                .filter((s) => s.op === "create")
                .map((s) => s.urn),
        );
        check(
            "up creates exactly the resources of the offline plan, and the stack",
            sameSet(created, new Set([...planned, stackUrn])),
            `engine ${created.size}, plan ${planned.size} + stack`,
        );
        check("up succeeded", up.summary.result === "succeeded", up.summary.result);
        if (target.kind === "render") {
            const files = renderedFiles(renderDir);
            check(
                "the provider rendered one YAML file per Kubernetes object",
                files.length === objectCount(plan),
                `${files.length} files, ${objectCount(plan)} objects`,
            );
        }
        await clusterHas("after up", baseNamespaces, []);
        const leaks = filesContaining(path.join(root, "backend"), Object.values(storeKeys));
        check(
            "no generated key is in the backend's files in plaintext (or base64)",
            leaks.length === 0,
            leaks.join(", "),
        );
        const state = (await stack.exportStack()).deployment?.resources as StateResource[] | undefined;
        const beyond = stateBeyondPlan(plan, state ?? []);
        console.log(`what the engine's state holds beyond the planned inputs (besides ${SERVER_METADATA.join(", ")}):`);
        for (const line of beyond.length > 0 ? beyond : ["nothing"]) console.log(`  ${line}`);
        const changed = inputsChangedByProvider(plan, state ?? []);
        console.log(
            "how the provider changed the planned inputs of Kubernetes objects (- dropped, + added, ~ changed):",
        );
        for (const line of changed.length > 0 ? changed : ["not at all"]) console.log(`  ${line}`);

        // 2. the re-preview finds nothing to do, and neither does a refresh (what the server holds is what was applied)
        await noChanges("re-preview after up shows no changes", "after up");
        if (target.kind === "cluster") {
            // Rendering has no live objects to read back: refresh is a cluster-only step.
            await timed(
                "refresh --expect-no-changes",
                () => stack.refresh({ expectNoChanges: true, onEvent: logged().onEvent }),
                (r) => r.summary.resourceChanges,
            ).then(
                () => check("refresh after up finds no drift", true),
                (e: Error) => check("refresh after up finds no drift", false, diagnostics(e.message)),
            );
            await noChanges("re-preview after refresh shows no changes", "after refresh");
        }

        // 3. add a model version: exactly its objects are created, nothing else changes
        setModels(projectDir, [ADDED]);
        const addPlan = offlinePlan(projectDir, path.join(root, "plan-add.json"));
        const added = new Set(addPlan.resources.map((r) => r.urn).filter((u) => !planned.has(u)));
        const addEvents = logged();
        const addPreview = await timed(
            `preview: add ${ADDED.model} ${ADDED.version}`,
            () => stack.preview({ onEvent: addEvents.onEvent }),
            (r) => r.changeSummary,
        );
        check(
            `preview of adding ${ADDED.model}/${ADDED.version} creates exactly its objects`,
            sameSet(previewOps(addEvents.log, "create"), added),
            `${previewOps(addEvents.log, "create").size} creates, plan ${added.size}`,
        );
        const addOther = ["update", "replace", "delete"] as const;
        check(
            "adding a version updates, replaces and deletes nothing",
            addOther.every((op) => countOf(addPreview.changeSummary, op) === 0),
            JSON.stringify(addPreview.changeSummary),
        );
        await timed(
            `up: add ${ADDED.model} ${ADDED.version}`,
            () => stack.up({ onEvent: logged().onEvent }),
            (r) => r.summary.resourceChanges,
        );
        await clusterHas(`after adding ${ADDED.version}`, [...baseNamespaces, addedNamespace], []);
        await noChanges(`re-preview after adding ${ADDED.model}/${ADDED.version} shows no changes`, "after add");

        // 4. remove it again: exactly its objects are deleted
        setModels(projectDir, []);
        const removeEvents = logged();
        const removePreview = await timed(
            `preview: remove ${ADDED.model} ${ADDED.version}`,
            () => stack.preview({ onEvent: removeEvents.onEvent }),
            (r) => r.changeSummary,
        );
        check(
            `preview of removing ${ADDED.model}/${ADDED.version} deletes exactly its objects`,
            sameSet(previewOps(removeEvents.log, "delete"), added),
            `${previewOps(removeEvents.log, "delete").size} deletes, plan ${added.size}`,
        );
        const removeOther = ["create", "update", "replace"] as const;
        check(
            "removing a version creates, updates and replaces nothing",
            removeOther.every((op) => countOf(removePreview.changeSummary, op) === 0),
            JSON.stringify(removePreview.changeSummary),
        );
        await timed(
            `up: remove ${ADDED.model} ${ADDED.version}`,
            () => stack.up({ onEvent: logged().onEvent }),
            (r) => r.summary.resourceChanges,
        );
        if (target.kind === "render") {
            const files = renderedFiles(renderDir);
            check(
                `removing ${ADDED.model}/${ADDED.version} leaves the other versions' files`,
                files.length === objectCount(plan),
                `${files.length} files, ${objectCount(plan)} objects`,
            );
        }
        await clusterHas(`after removing ${ADDED.version}`, baseNamespaces, [addedNamespace]);

        // 5. destroy
        const destroy = await timed(
            "destroy",
            () => stack.destroy({ onEvent: logged().onEvent }),
            (r) => r.summary.resourceChanges,
        );
        check("destroy succeeded", destroy.summary.result === "succeeded", destroy.summary.result);
        const left = (await stack.exportStack()).deployment?.resources ?? [];
        check("nothing is left in the stack's state", left.length === 0, `${left.length} resources`);
        if (target.kind === "render") {
            const files = renderedFiles(renderDir);
            check("destroy removed every rendered file", files.length === 0, `${files.length} left`);
        }
        await clusterHas("after destroy", [], [...baseNamespaces, addedNamespace]);
    } catch (e) {
        check("every step ran", false, e instanceof Error ? e.message : String(e));
    } finally {
        printRows(rows);
        if (warnings.size > 0) console.log(`\nthe engine warned:\n${[...warnings].map((w) => `  ${w}`).join("\n")}`);
        if (!args.keep) {
            await stack.workspace.removeStack(STACK, { force: true }).catch(() => undefined);
            if (!args.scratch) fs.rmSync(root, { recursive: true, force: true });
        }
    }
    const failed = checks.filter((c) => !c.ok).length;
    console.log(`engine: ${checks.length - failed} passed, ${failed} failed`);
    return failed === 0 ? 0 : 1;
}

if (require.main === module) {
    runTool(process.argv.slice(2), USAGE, main).then(
        (code) => process.exit(code),
        (e) => {
            console.error(e);
            process.exit(1);
        },
    );
}
