/**
 * The real Pulumi engine on this machine: `npm run test:engine [-- --keep] [--scratch <dir>]`.
 *
 * Runs the whole program (infra/program.ts) of a `cloud: existing` stack, Pulumi.existing-shared-example.yaml (every
 * add-on `present`, an external S3-compatible store), on the engine built from upstream modules (npm run
 * engine:build) with a local file backend and a passphrase, against the local control plane (tools/cluster), which
 * it starts and prepares as the existing cluster (existing-cluster.ts), with moto's S3 server on loopback as the
 * store (s3-store.ts). The random provider is the stand-in of random-provider/ (the proxy refuses the real one).
 *
 *   preview → up → preview --expect-no-changes → refresh --expect-no-changes → preview --expect-no-changes →
 *   aliases: state moved back to the URNs before issue 17's moves, preview and up move it without a change →
 *   add a model version and change the canary weights (preview, up, re-preview) → remove the version (preview, up,
 *   re-preview) → destroy
 *
 * Every step's creates, updates and deletes must be exactly what the offline plans of the same stack files predict
 * (npm run plan), every re-preview empty, no secret in the backend's files, the store's objects untouched, and what
 * the cluster had before the stack (the present add-ons' namespaces, CRDs, the store's Secret) still there after
 * destroy. Prints each step's figures and a closing `engine: N passed, M failed` line. Exit 0 when every check
 * passed, 1 otherwise, 2 for bad arguments.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { EngineEvent, OpMap, Stack } from "@pulumi/pulumi/automation";
import { MONITORING_NAMESPACE } from "../../contract/names";
import { TEKTON } from "../../contract/versions";
import { parseOptions, runAsScript, UsageError } from "../cli";
import type { Cluster } from "../cluster/control-plane";
import type { Kube } from "../cluster/kube";
import type { StackPlan } from "../cluster/plan-objects";
import type { Json } from "../../contract/json";
import { PROJECT_ROOT, yaml } from "../stack";
import type { PresentAddons, PresentControllers } from "./existing-cluster";
import { engineRunModules } from "./run-modules";
import type { S3Store } from "./s3-store";
import {
    SERVER_METADATA,
    diagnostics,
    differingPaths,
    filesContaining,
    inputsChangedByProvider,
    stateBeyondPlan,
} from "./state-diff";
import type { StateResource } from "./state-diff";

const PROJECT = "mlops-testbed";
const STACK = "engine";
export const BASE_STACK_FILE = "Pulumi.existing-shared-example.yaml";
/** The engine tier's control plane address (the cluster tier's is 127.0.0.15), so both can run at once. */
export const ENGINE_CLUSTER_IP = process.env.MLOPS_ENGINE_CLUSTER_IP ?? "127.0.0.45";
/** The config change: a version added to a model, and the canary weights that give it traffic. */
export const CHANGE: ConfigChange = { model: "iris", version: "v3", weights: { v1: 80, v2: 10, v3: 10 } };

/** A version added to a model, and the model's new canary weights. */
export interface ConfigChange {
    /** The model the version is added to. */
    readonly model: string;
    /** The added version's name. */
    readonly version: string;
    /** The model's canary weights by version after the change. */
    readonly weights: Readonly<Record<string, number>>;
}

/**
 * What the engine cannot run here, left out of every operation (`--exclude`, with `--exclude-dependents`): the
 * Helm releases fetch their charts from chart repositories on the internet, which this machine cannot reach.
 */
export const EXCLUDED = {
    patterns: ["**kubernetes:helm.sh/v3:Release::**"],
    why: "Helm charts come from chart repositories on the internet (prometheus-community, NVIDIA), unreachable here",
} as const;

export interface EngineTestArgs {
    readonly keep: boolean;
    readonly scratch?: string;
}

const USAGE = `Usage: npm run test:engine -- [--keep] [--scratch <dir>]

Runs the whole program of an existing-cluster stack (${BASE_STACK_FILE}: add-ons present, external S3 store) on the
real Pulumi engine (npm run engine:build) against a local control plane it starts (tools/cluster) and moto's S3
server on loopback: preview, up, empty re-previews and refresh, aliases, a model version added with new canary
weights and removed, destroy. Prints each step's figures and "engine: N passed, M failed".

  --keep           keep the stack, the control plane's state and the scratch folder (the control plane is stopped)
  --scratch <dir>  use this scratch folder (never deleted) instead of a new temporary one
  -h, --help       show this help
`;

export function parseArgs(argv: readonly string[]): EngineTestArgs {
    const { values } = parseOptions(argv, { keep: { type: "boolean" }, scratch: { type: "string" } });
    if (values.scratch === "") throw new UsageError("--scratch needs a folder");
    return { keep: values.keep === true, scratch: values.scratch ? path.resolve(values.scratch) : undefined };
}

type ModelsConfig = { name: string; versions: { name: string }[]; traffic?: { weights?: Record<string, number> } }[];

/**
 * The stack file's config: the shared example's, the store's endpoint the S3 server's (a loopback IP, so the
 * default egress is that address), the placeholder kubeconfig left out; with `change`, the added version and weights.
 */
export function engineStackConfig(storeEndpoint: string, change?: ConfigChange): Record<string, unknown> {
    const doc = yaml().parse(fs.readFileSync(path.join(PROJECT_ROOT, BASE_STACK_FILE), "utf8")) as {
        config: Record<string, unknown>;
    };
    const config = structuredClone(doc.config);
    delete config[`${PROJECT}:kubeconfig`];
    const existing = config[`${PROJECT}:existing`] as { store: { endpoint: string; egress?: unknown } };
    existing.store.endpoint = storeEndpoint;
    delete existing.store.egress;
    if (change) {
        const models = config[`${PROJECT}:models`] as ModelsConfig;
        const model = models.find((m) => m.name === change.model);
        if (!model) throw new Error(`${BASE_STACK_FILE} has no model ${change.model}`);
        model.versions.push({ name: change.version });
        model.traffic = { ...model.traffic, weights: { ...change.weights } };
    }
    return config;
}

/** The `existing` config's parts the engine tier reads. */
export function existingOf(config: Record<string, unknown>): {
    store: { credentialsSecret: string; buckets: { models: string; datasets: string } };
    addons: { gateway: { gatewayClassName: string }; monitoring: { prometheus: string; alertmanager: string } };
} {
    return config[`${PROJECT}:existing`] as ReturnType<typeof existingOf>;
}

/** The present add-ons and store Secret the shared example's config names. */
export function presentAddonsOf(config: Record<string, unknown>, keys: S3Store["keys"]): PresentAddons {
    const existing = config[`${PROJECT}:existing`] as {
        store: { credentialsSecret: string };
        addons: { gateway: { gatewayClassName: string } };
    };
    const [namespace, name] = existing.store.credentialsSecret.split("/");
    return {
        monitoringNamespace: MONITORING_NAMESPACE,
        gatewayClassName: existing.addons.gateway.gatewayClassName,
        storeSecret: { namespace, name },
        storeKeys: keys,
    };
}

/** URNs a plan's resources leave out under EXCLUDED: the Releases, and what depends on them or is parented by them. */
export function excludedUrns(plan: Pick<StackPlan, "resources">): Set<string> {
    const out = new Set(plan.resources.filter((r) => r.type === "kubernetes:helm.sh/v3:Release").map((r) => r.urn));
    for (let grew = true; grew;) {
        grew = false;
        for (const r of plan.resources) {
            if (out.has(r.urn)) continue;
            if ((r.parent && out.has(r.parent)) || r.dependsOn.some((d) => out.has(d))) {
                out.add(r.urn);
                grew = true;
            }
        }
    }
    return out;
}

/** What a change between two plans must do: URNs only in `after`, only in `before`, and in both with new inputs. */
export function planChange(
    before: Pick<StackPlan, "resources">,
    after: Pick<StackPlan, "resources">,
): { create: Set<string>; delete: Set<string>; update: Set<string> } {
    const b = new Map(before.resources.map((r) => [r.urn, r]));
    const a = new Map(after.resources.map((r) => [r.urn, r]));
    const update = new Set<string>();
    // Inputs the resource's ignoreChanges names never cause an update (dotted paths).
    const compared = (inputs: Record<string, unknown>, ignored: readonly string[]) => {
        const copy = structuredClone(inputs) as Json;
        for (const p of ignored) {
            const keys = p.split(".");
            const holder = keys.slice(0, -1).reduce((o: Json, k) => o?.[k], copy);
            if (holder) delete holder[keys[keys.length - 1]];
        }
        return JSON.stringify(copy);
    };
    for (const [urn, r] of a) {
        const old = b.get(urn);
        const ignored = (r as { ignoreChanges?: string[] }).ignoreChanges ?? [];
        if (old && r.custom && compared(old.inputs, ignored) !== compared(r.inputs, ignored)) update.add(urn);
    }
    return {
        create: new Set([...a.keys()].filter((u) => !b.has(u))),
        delete: new Set([...b.keys()].filter((u) => !a.has(u))),
        update,
    };
}

/**
 * A deployment as it was before issue 17's refactorings moved resources into new components (the plan's
 * `movedFrom`): each moved resource at its old URN under its old parent (the new component's parent), the new
 * components, left childless, removed. References (parents, dependencies) follow the renames.
 */
export function stateBeforeMoves(
    deployment: Json,
    plan: { readonly resources: readonly { urn: string; movedFrom?: readonly string[] }[] },
): { deployment: Json; moved: Map<string, string> } {
    const moved = new Map<string, string>();
    for (const r of plan.resources) if (r.movedFrom?.length) moved.set(r.urn, r.movedFrom[0]);
    const copy = structuredClone(deployment);
    const byUrn = new Map<string, Json>(copy.resources.map((r: Json) => [r.urn, r]));
    const newParents = new Set<string>();
    for (const r of copy.resources) {
        if (!moved.has(r.urn)) continue;
        newParents.add(r.parent);
        r.parent = byUrn.get(r.parent)?.parent ?? r.parent;
    }
    const to = (u: string) => moved.get(u) ?? u;
    copy.resources = copy.resources.filter(
        (r: Json) =>
            !(newParents.has(r.urn) && !copy.resources.some((c: Json) => c.parent === r.urn && !moved.has(c.urn))),
    );
    for (const r of copy.resources) {
        r.urn = to(r.urn);
        if (r.dependencies) r.dependencies = r.dependencies.map(to);
        for (const [k, deps] of Object.entries(r.propertyDependencies ?? {}))
            r.propertyDependencies[k] = (deps as string[]).map(to);
    }
    return { deployment: copy, moved };
}

interface StepRow {
    step: string;
    seconds: number;
    counts: OpMap;
}

type Op = "create" | "update" | "replace" | "delete" | "same";

function printRows(rows: readonly StepRow[]): void {
    console.log(`\n${"step".padEnd(52)}seconds  create update replace delete same`);
    for (const r of rows) {
        const c = (op: Op, w: number) => String(r.counts[op] ?? 0).padStart(w);
        console.log(
            `${r.step.padEnd(52)}${r.seconds.toFixed(1).padStart(7)} ${c("create", 6)} ${c("update", 6)} ${c("replace", 7)} ${c("delete", 6)} ${c("same", 4)}`,
        );
    }
}

/** A provider the engine registers for a package the program gives no explicit provider (`default_<version>`). */
export const isDefaultProvider = (urn: string): boolean => /::pulumi:providers:[^:$]+::default(_[\d_]+)?$/.test(urn);
const sorted = (s: Iterable<string>) => [...s].sort();
const sameSet = (a: Set<string>, b: Set<string>) => sorted(a).join("\n") === sorted(b).join("\n");
const minus = (a: Set<string>, b: Set<string>) => new Set([...a].filter((x) => !b.has(x)));
const short = (urns: Iterable<string>) => sorted([...urns].map((u) => u.split("::").slice(2).join("::")));

/** Resource operations a preview announced, by op (`update` also counts `replace`), from its engine events. */
function previewOps(events: readonly EngineEvent[]): Record<"create" | "update" | "delete" | "same", Set<string>> {
    const out = {
        create: new Set<string>(),
        update: new Set<string>(),
        delete: new Set<string>(),
        same: new Set<string>(),
    };
    for (const e of events) {
        const m = e.resourcePreEvent?.metadata;
        if (!m) continue;
        const op = m.op === "replace" || m.op === "create-replacement" ? "update" : m.op;
        if (op === "create" || op === "update" || op === "delete" || op === "same") out[op].add(m.urn);
    }
    return out;
}

/** One update, replacement or refresh change of an operation: the properties that differ, and those forcing a replace. */
export interface StepChange {
    readonly op: string;
    readonly urn: string;
    /** The provider's diff; for a refresh (which has none), `inputs`/`outputs` paths from the state before and after. */
    readonly paths: readonly string[];
    readonly replaceKeys: readonly string[];
}

/** The updates, replacements and refresh changes of an operation's events (refresh reports drift as `refresh`). */
export function stepChanges(events: readonly EngineEvent[]): StepChange[] {
    const out = new Map<string, StepChange>();
    for (const e of events) {
        const m = e.resourcePreEvent?.metadata ?? e.resOutputsEvent?.metadata;
        if (!m || !["update", "replace", "create-replacement", "refresh"].includes(m.op)) continue;
        // A refresh (and a preview of a read resource) carries no provider diff: the state before and after says.
        const paths = m.diffs?.length
            ? [...m.diffs]
            : [
                  ...differingPaths(m.old?.inputs, m.new?.inputs).map((d) => `inputs ${d}`),
                  ...(m.op === "refresh" || e.resOutputsEvent
                      ? differingPaths(m.old?.outputs, m.new?.outputs)
                            .filter((d) => !SERVER_METADATA.some((x) => d.slice(1) === x))
                            .map((d) => `outputs ${d}`)
                      : []),
              ];
        if (m.op === "refresh" && paths.length === 0) continue;
        const key = `${m.op} ${m.urn}`;
        const known = out.get(key);
        out.set(key, {
            op: m.op,
            urn: m.urn,
            paths: [...new Set([...(known?.paths ?? []), ...paths])],
            replaceKeys: [...(m.keys ?? [])],
        });
    }
    return [...out.values()];
}

/** A StepChange as one line. */
export function describeChange(c: StepChange): string {
    const keys = c.replaceKeys.length ? `; replaced because of ${c.replaceKeys.join(", ")}` : "";
    return `${c.op} ${short([c.urn])[0]}: ${c.paths.join(", ")}${keys}`;
}

async function namespaces(kube: Kube): Promise<Set<string>> {
    return new Set((await kube.list<Json>("v1", "Namespace")).map((n) => n.metadata.name as string));
}

async function main(argv: readonly string[]): Promise<number> {
    const args = parseArgs(argv);
    const run = engineRunModules();
    /* eslint-disable @typescript-eslint/no-require-imports -- loaded with the rest, after the arguments */
    const { modelNamespaceName } =
        require("../../contract/config/models") as typeof import("../../contract/config/models");
    const { planStack } = require("../cluster/plan-objects") as typeof import("../cluster/plan-objects");
    /* eslint-enable @typescript-eslint/no-require-imports */
    const checks: { name: string; ok: boolean }[] = [];
    const check = (name: string, ok: boolean, detail = "") => {
        checks.push({ name, ok });
        console.log(`${ok ? "ok  " : "FAIL"} ${name}${detail ? `: ${detail}` : ""}`);
    };
    const rows: StepRow[] = [];
    const warnings = new Set<string>();
    const timed = async <T>(step: string, f: () => Promise<T>, counts: (r: T) => OpMap | undefined): Promise<T> => {
        const t0 = Date.now();
        const result = await f();
        rows.push({ step, seconds: (Date.now() - t0) / 1000, counts: counts(result) ?? {} });
        return result;
    };
    const logged = () => {
        const log = new run.harness.EventLog();
        return {
            log,
            onEvent: (e: EngineEvent) => {
                log.record(e);
                if (e.diagnosticEvent?.severity === "warning") warnings.add(e.diagnosticEvent.message.trim());
            },
        };
    };
    const exclude = { exclude: [...EXCLUDED.patterns], excludeDependents: true };

    const t0 = Date.now();
    const built = run.buildEngine({ log: (l) => console.log(`[build] ${l}`) });
    const missing = built.filter((o) => (o.piece === "cli" || o.piece === "kubernetes") && !("record" in o));
    if (missing.length > 0) throw new Error(`engine pieces not built: ${missing.map((m) => m.piece).join(", ")}`);
    run.controlPlane.build();
    console.log(`engine and control plane ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (built or cached)`);

    const root = args.scratch ?? fs.mkdtempSync(path.join(os.tmpdir(), "mlops-testbed-engine-"));
    const projectDir = path.join(root, "project");
    console.log(`scratch: ${root}; backend file://${path.join(root, "backend")}`);
    let cluster: Cluster | undefined;
    let store: S3Store | undefined;
    let controllers: PresentControllers | undefined;
    let stack: Stack | undefined;
    try {
        // The existing cluster: control plane, a node, the present add-ons and the store.
        cluster = await timed(
            "control plane start",
            () => run.controlPlane.start(path.join(root, "cluster"), ENGINE_CLUSTER_IP),
            () => ({}),
        );
        const kube = cluster.admin;
        const stackBuckets = (
            engineStackConfig("http://127.0.0.1")[`${PROJECT}:existing`] as {
                store: { buckets: { models: string; datasets: string } };
            }
        ).store.buckets;
        store = await run.startS3Store(ENGINE_CLUSTER_IP, [stackBuckets.models, stackBuckets.datasets]);
        const baseConfig = engineStackConfig(store.endpoint);
        const present = presentAddonsOf(baseConfig, store.keys);
        const buckets = (
            baseConfig[`${PROJECT}:existing`] as { store: { buckets: { models: string; datasets: string } } }
        ).store.buckets;
        const crds = await timed(
            "existing cluster: CRDs, add-ons, store",
            () => run.existingCluster.prepareExistingCluster(kube, present, existingOf(baseConfig).addons.monitoring),
            () => ({}),
        );
        console.log(
            `existing cluster: ${crds} CRDs, namespaces ${MONITORING_NAMESPACE}, ${TEKTON.pipelines.namespace}, ${present.storeSecret.namespace}`,
        );
        controllers = new run.existingCluster.PresentControllers(kube, present.gatewayClassName, ENGINE_CLUSTER_IP);
        controllers.start();
        // The store's data: builds of the versions and a dataset, including the version the change adds and removes.
        putStoreObjects(store, buckets, CHANGE);
        const before = {
            namespaces: await namespaces(kube),
            crds: (await kube.list<Json>("apiextensions.k8s.io/v1", "CustomResourceDefinition")).length,
        };

        stack = await timed(
            "stack init + config",
            () =>
                run.harness.createScratchStack({
                    root,
                    project: PROJECT,
                    stack: STACK,
                    program: run.program,
                    providers: ["kubernetes", "random"],
                    config: baseConfig,
                    secrets: { [`${PROJECT}:kubeconfig`]: fs.readFileSync(cluster!.adminKubeconfig, "utf8") },
                }),
            () => ({}),
        );
        const plans = path.join(root, "plans");
        const plan = planStack(STACK, path.join(plans, "base"), projectDir);
        const excluded = excludedUrns(plan);
        console.log(`left out of every operation (${EXCLUDED.why}):\n  ${short(excluded).join("\n  ")}`);
        const expected = minus(new Set(plan.resources.map((r) => r.urn)), excluded);
        const stackUrn = `urn:pulumi:${STACK}::${PROJECT}::pulumi:pulumi:Stack::${PROJECT}-${STACK}`;
        const readOnly = new Set<string>();

        // 1. preview and up: exactly the plan's resources (less the excluded) are created
        const firstPreview = logged();
        await timed(
            "preview (new stack)",
            () => stack!.preview({ ...exclude, onEvent: firstPreview.onEvent }),
            (r) => r.changeSummary,
        );
        const willCreate = previewOps(firstPreview.log.events).create;
        // Default providers are the engine's (the program names no random provider); the mock records none.
        const defaultProviders = new Set([...willCreate].filter(isDefaultProvider));
        console.log(`default providers the engine adds: ${short(defaultProviders).join(", ") || "none"}`);
        check(
            "the first preview creates exactly the offline plan's resources (less the excluded), the stack and default providers",
            sameSet(willCreate, new Set([...minus(expected, readOnly), stackUrn, ...defaultProviders])),
            `engine ${willCreate.size}, plan ${expected.size - readOnly.size} + stack; only engine: ${short(minus(willCreate, expected)).join(", ")}; only plan: ${short(minus(minus(expected, readOnly), willCreate)).join(", ")}`,
        );
        const upEvents = logged();
        const up = await timed(
            "up",
            () => stack!.up({ ...exclude, onEvent: upEvents.onEvent }),
            (r) => r.summary.resourceChanges,
        );
        check("up succeeded", up.summary.result === "succeeded", up.summary.result);
        const created = new Set(
            upEvents.log
                .steps()
                .filter((s) => s.op === "create")
                .map((s) => s.urn),
        );
        check("up created what the preview announced", sameSet(created, willCreate), `${created.size} created`);
        const outputs = await stack.outputs();
        const secretsOut = [store.keys.secretAccessKey, String(outputs.gitWebhookSecret?.value ?? "")].filter(
            (s) => s.length >= 16,
        );
        const leaks = filesContaining(path.join(root, "backend"), secretsOut);
        check(
            "no secret (the store's key, the generated webhook secret) is in the backend's files in plaintext or base64",
            secretsOut.length === 2 && leaks.length === 0 && outputs.gitWebhookSecret?.secret === true,
            leaks.join(", "),
        );
        const state = ((await stack.exportStack()).deployment?.resources ?? []) as StateResource[];
        const protectedUrns = (state as (StateResource & { protect?: boolean; retainOnDelete?: boolean })[])
            .filter((r) => r.protect || r.retainOnDelete)
            .map((r) => r.urn);
        console.log(
            `protected or retained on delete in this stack: ${protectedUrns.length === 0 ? "nothing (the store is external, the add-ons present)" : short(protectedUrns).join(", ")}`,
        );
        console.log(`what the engine's state holds beyond the planned inputs (besides ${SERVER_METADATA.join(", ")}):`);
        for (const line of stateBeyondPlan(plan, state)) console.log(`  ${line}`);
        console.log(
            "how the provider changed the planned inputs of Kubernetes objects (- dropped, + added, ~ changed):",
        );
        for (const line of inputsChangedByProvider(plan, state)) console.log(`  ${line}`);

        // 2. nothing to do after up, and nothing drifted
        const noChanges = async (name: string, after: string) => {
            const e = logged();
            await timed(
                `preview --expect-no-changes (${after})`,
                () => stack!.preview({ ...exclude, expectNoChanges: true, diff: true, onEvent: e.onEvent }),
                (r) => r.changeSummary,
            ).then(
                () => check(name, true),
                (err: Error) => check(name, false, diagnostics(err.message)),
            );
        };
        await noChanges("the re-preview after up shows no changes", "after up");
        // A resource read with .get() is stored by up without inputs; the provider's Read returns the live object's
        // (apiVersion, kind, metadata), so the first refresh adds them: a change of the state, not of the cluster.
        const readUrns = new Set(
            (state as (StateResource & { external?: boolean })[]).filter((r) => r.external).map((r) => r.urn),
        );
        const refreshEvents = logged();
        await timed(
            "refresh (first)",
            () => stack!.refresh({ ...exclude, onEvent: refreshEvents.onEvent }),
            (r) => r.summary.resourceChanges,
        );
        const refreshed = stepChanges(refreshEvents.log.events);
        console.log(`the first refresh changed:\n  ${refreshed.map(describeChange).join("\n  ") || "nothing"}`);
        check(
            "the first refresh changes no managed resource, and read resources only by gaining their inputs",
            refreshed.every(
                (c) => readUrns.has(c.urn) && c.paths.length > 0 && c.paths.every((p) => p.startsWith("inputs +")),
            ),
            `${readUrns.size} read resources`,
        );
        await timed(
            "refresh --expect-no-changes (second)",
            () => stack!.refresh({ ...exclude, expectNoChanges: true, onEvent: logged().onEvent }),
            (r) => r.summary.resourceChanges,
        ).then(
            () => check("a second refresh finds no drift", true),
            (err: Error) => check("a second refresh finds no drift", false, diagnostics(err.message)),
        );
        await noChanges("the re-preview after refresh shows no changes", "after refresh");

        // 3. aliases: a state whose resources sit where they were before their moves is moved without a change
        const dep = await stack.exportStack();
        const { deployment: earlier, moved } = stateBeforeMoves(dep.deployment, plan);
        if (moved.size > 0) {
            await stack.importStack({ ...dep, deployment: earlier });
            const aliasEvents = logged();
            await timed(
                "preview: state at the URNs before the moves",
                () => stack!.preview({ ...exclude, onEvent: aliasEvents.onEvent }),
                (r) => r.changeSummary,
            );
            const ops = previewOps(aliasEvents.log.events);
            const customs = (urns: Set<string>) =>
                short([...urns].filter((u) => plan.resources.find((r) => r.urn === u)?.custom !== false));
            check(
                `aliases: the ${moved.size} moved resources are found at their old URNs: no resource created, updated or deleted`,
                customs(ops.create).length + customs(ops.update).length + ops.delete.size === 0,
                `creates ${customs(ops.create).join(", ")}; updates ${customs(ops.update).join(", ")}; deletes ${short(ops.delete).join(", ")}`,
            );
            await timed(
                "up: move state to the new URNs",
                () => stack!.up({ ...exclude, onEvent: logged().onEvent }),
                (r) => r.summary.resourceChanges,
            );
            const urns = new Set(
                ((await stack.exportStack()).deployment?.resources ?? []).map((r: StateResource) => r.urn),
            );
            check(
                "aliases: after up the state holds the new URNs, none of the old",
                [...moved].every(([n, o]) => urns.has(n) && !urns.has(o)),
            );
        }

        // 4. the config change: a version added, the canary weights changed
        const writeConfig = (config: Record<string, unknown>) => {
            const file = path.join(projectDir, `Pulumi.${STACK}.yaml`);
            const doc = yaml().parse(fs.readFileSync(file, "utf8")) as { config: Record<string, unknown> };
            doc.config = { ...doc.config, ...config };
            fs.writeFileSync(file, yaml().stringify(doc));
        };
        const changedConfig = engineStackConfig(store.endpoint, CHANGE);
        writeConfig(changedConfig);
        const plan2 = planStack(STACK, path.join(plans, "change"), projectDir);
        const change = planChange(plan, plan2);
        for (const s of [change.create, change.update]) for (const u of excludedUrns(plan2)) s.delete(u);
        const changeEvents = logged();
        const changePreview = await timed(
            `preview: add ${CHANGE.model} ${CHANGE.version}, new weights`,
            () => stack!.preview({ ...exclude, onEvent: changeEvents.onEvent }),
            (r) => r.changeSummary,
        );
        const cOps = previewOps(changeEvents.log.events);
        console.log(
            `the change's updates and replacements:\n  ${stepChanges(changeEvents.log.events).map(describeChange).join("\n  ")}`,
        );
        const changeEventsReplaced = stepChanges(changeEvents.log.events).filter((c) => c.op !== "update");
        check(
            "the change replaces nothing (ConfigMaps are updated in place: K8S_PROVIDER_SETTINGS)",
            changeEventsReplaced.length === 0,
            changeEventsReplaced.map(describeChange).join("; "),
        );
        check(
            "the change's preview creates exactly the new version's resources",
            sameSet(cOps.create, change.create),
            `${cOps.create.size} creates, plan ${change.create.size}; only engine: ${short(minus(cOps.create, change.create)).join(", ")}; only plan: ${short(minus(change.create, cOps.create)).join(", ")}`,
        );
        check(
            "the change's preview updates and deletes exactly what the plans say (the route's shape changed: a new route, the old one deleted)",
            sameSet(cOps.update, change.update) && sameSet(cOps.delete, change.delete),
            `updates ${short(cOps.update).join(", ")}; plan ${short(change.update).join(", ")}; ${JSON.stringify(changePreview.changeSummary)}`,
        );
        await timed(
            `up: add ${CHANGE.model} ${CHANGE.version}, new weights`,
            () => stack!.up({ ...exclude, onEvent: logged().onEvent }),
            (r) => r.summary.resourceChanges,
        );
        const added = modelNamespaceName(CHANGE.model, CHANGE.version);
        check(`the API server holds namespace ${added}`, (await namespaces(kube)).has(added));
        await noChanges("the re-preview after the change shows no changes", "after the change");
        // Weights alone belong to the pipelines once the route exists (ignoreChanges on its rules): no change.
        writeConfig(engineStackConfig(store.endpoint, { ...CHANGE, weights: { v1: 70, v2: 20, v3: 10 } }));
        await noChanges(
            "new canary weights alone change nothing (the pipelines own a live route's weights)",
            "weights only",
        );
        writeConfig(changedConfig);

        // 5. the version removed again: its namespace's objects go, the store's data stays
        const objectsBefore = store.objects([buckets.models, buckets.datasets]);
        writeConfig(baseConfig);
        const back = planChange(plan2, plan);
        for (const u of excludedUrns(plan)) back.update.delete(u);
        const removeEvents = logged();
        const removePreview = await timed(
            `preview: remove ${CHANGE.model} ${CHANGE.version}`,
            () => stack!.preview({ ...exclude, onEvent: removeEvents.onEvent }),
            (r) => r.changeSummary,
        );
        const rOps = previewOps(removeEvents.log.events);
        console.log(
            `the removal's updates and replacements:\n  ${stepChanges(removeEvents.log.events).map(describeChange).join("\n  ")}`,
        );
        const removeEventsReplaced = stepChanges(removeEvents.log.events).filter((c) => c.op !== "update");
        check(
            "the removal replaces nothing (ConfigMaps are updated in place: K8S_PROVIDER_SETTINGS)",
            removeEventsReplaced.length === 0,
            removeEventsReplaced.map(describeChange).join("; "),
        );
        check(
            "removing the version deletes, updates and creates exactly what the plans say (its objects; the route back to the old shape)",
            sameSet(rOps.delete, back.delete) && sameSet(rOps.update, back.update) && sameSet(rOps.create, back.create),
            `${JSON.stringify(removePreview.changeSummary)}; deletes outside the plan's: ${short(minus(rOps.delete, back.delete)).join(", ")}`,
        );
        const removedNamespaced = [...rOps.delete].every((u) => {
            const r = plan2.resources.find((x) => x.urn === u);
            const ns = (r?.inputs as Json)?.metadata?.namespace ?? (r?.inputs as Json)?.metadata?.name;
            return !r?.custom || ns === added || r.type.endsWith(":HTTPRoute");
        });
        check(`every deleted Kubernetes object is ${added}, in it, or the model's superseded route`, removedNamespaced);
        await timed(
            `up: remove ${CHANGE.model} ${CHANGE.version}`,
            () => stack!.up({ ...exclude, onEvent: logged().onEvent }),
            (r) => r.summary.resourceChanges,
        );
        const nsAfter = await namespaces(kube);
        check(
            `the API server no longer holds ${added}, still holds the other versions`,
            !nsAfter.has(added) && ["v1", "v2"].every((v) => nsAfter.has(modelNamespaceName(CHANGE.model, v))),
        );
        const objectsAfter = store.objects([buckets.models, buckets.datasets]);
        check(
            "the store's objects survive the version's removal, its own build included",
            objectsAfter.join("\n") === objectsBefore.join("\n") &&
                objectsAfter.some((o) => o.includes(`/${CHANGE.version}/`)),
            `${objectsAfter.length} objects`,
        );
        await noChanges("the re-preview after the removal shows no changes", "after the removal");

        // 6. destroy: the stack's resources go; what the cluster had before, and the store's data, stay
        const destroy = await timed(
            "destroy",
            // No --exclude: the excluded resources were never created, and destroy has no --exclude-dependents.
            () => stack!.destroy({ onEvent: logged().onEvent }),
            (r) => r.summary.resourceChanges,
        );
        check("destroy succeeded", destroy.summary.result === "succeeded", destroy.summary.result);
        const left = (await stack.exportStack()).deployment?.resources ?? [];
        check("nothing is left in the stack's state", left.length === 0, `${left.length} resources`);
        const nsEnd = await namespaces(kube);
        const crdsEnd = (await kube.list<Json>("apiextensions.k8s.io/v1", "CustomResourceDefinition")).length;
        check(
            "destroy leaves what the cluster had before the stack: the add-ons' namespaces and CRDs, the store's Secret",
            [...before.namespaces].every((n) => nsEnd.has(n)) &&
                crdsEnd === before.crds &&
                (await kube.read<Json>("v1", "Secret", present.storeSecret.name, present.storeSecret.namespace))
                    .metadata.name === present.storeSecret.name,
            `namespaces ${sorted(nsEnd).join(", ")}; ${crdsEnd} CRDs`,
        );
        check(
            "destroy removes every model namespace",
            ["v1", "v2"].every((v) => !nsEnd.has(modelNamespaceName(CHANGE.model, v))),
        );
        check(
            "the store's objects survive destroy",
            store.objects([buckets.models, buckets.datasets]).join("\n") === objectsBefore.join("\n"),
        );
    } catch (e) {
        check("every step ran", false, e instanceof Error ? diagnostics(e.message) : String(e));
    } finally {
        printRows(rows);
        if (controllers) {
            await controllers.stop();
            console.log(
                `\nstand-in controllers: ${controllers.actions.length} actions (${controllers.actions.join("; ")})${controllers.errors.length ? `; errors: ${controllers.errors.slice(0, 3).join("; ")}` : ""}`,
            );
        }
        if (warnings.size > 0) console.log(`\nthe engine warned:\n${[...warnings].map((w) => `  ${w}`).join("\n")}`);
        store?.stop();
        if (cluster) run.controlPlane.stop(cluster.state);
        if (!args.keep) {
            await stack?.workspace.removeStack(STACK, { force: true }).catch(() => undefined);
            if (!args.scratch) fs.rmSync(root, { recursive: true, force: true });
        }
    }
    const failed = checks.filter((c) => !c.ok).length;
    console.log(`engine: ${checks.length - failed} passed, ${failed} failed`);
    return failed === 0 ? 0 : 1;
}

/** Objects standing for the store's data: each version's model build (the added one's too) and a dataset. */
function putStoreObjects(store: S3Store, buckets: { models: string; datasets: string }, change: ConfigChange): void {
    for (const v of ["v1", "v2", change.version])
        store.put(buckets.models, `${change.model}/${v}/model.joblib`, `model ${v}`);
    store.put(buckets.datasets, `${change.model}/train.csv`, "x,y\n1,2\n");
}

runAsScript(module, USAGE, main);
