/**
 * The engine tools (tools/engine) offline: pins agree with package.json and the CLI's wrapper module, the harness's
 * environment keeps the CLI off ~/.pulumi and off the network, and the proof program runs exactly the real
 * program's model layer. `npm run test:engine` runs the engine itself.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { program } from "../infra/program";
import { cacheRoot } from "../tools/cache";
import { ENGINE, pieceBinary, pieceDir, type EnginePiece } from "../tools/engine/versions";
import { parseArgs as parseBuildArgs } from "../tools/engine/build";
import { engineEnv, projectFile } from "../tools/engine/harness";
import {
    diagnostics,
    differingPaths,
    filesContaining,
    inputsChangedByProvider,
    outputOnlyPaths,
    stateBeyondPlan,
} from "../tools/engine/state-diff";
import {
    CHANGE,
    engineStackConfig,
    excludedUrns,
    isDefaultProvider,
    parseArgs as parseTestArgs,
    planChange,
    stateBeforeMoves,
    stepChanges,
} from "../tools/engine/test-engine";
import { parseArgs as parsePreviewArgs } from "../tools/engine/preview-local";
import { movedFrom } from "../tools/plan";
import { qualifiedType, runProgram, type Plan } from "../tools/mock-runtime";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { PROJECT_ROOT, loadStack } from "../tools/stack";

const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8")) as {
    dependencies: Record<string, string>;
};

describe("engine pins", () => {
    it("want exactly the SDK versions package.json installs", () => {
        for (const [name, piece] of Object.entries(ENGINE) as [string, EnginePiece][]) {
            const installed = pkg.dependencies[piece.npmPackage];
            assert.ok(installed, `${name}: ${piece.npmPackage} is not a dependency`);
            assert.equal(
                piece.wanted,
                `v${installed}`,
                `${name} wants ${piece.wanted}, package.json has ${piece.npmPackage} ${installed}`,
            );
        }
    });

    it("explain every version that is not the wanted one, and every unavailable piece", () => {
        for (const [name, piece] of Object.entries(ENGINE) as [string, EnginePiece][]) {
            const explained = piece.servedNote.length > 0;
            assert.equal(
                explained,
                piece.version !== piece.wanted || piece.source === "unavailable",
                `${name}: servedNote`,
            );
        }
    });

    it("the CLI's wrapper module requires the pinned pkg/v3 and builds its pulumi command as a tool", () => {
        const gomod = fs.readFileSync(path.join(PROJECT_ROOT, "tools/engine/cli/go.mod"), "utf8");
        const required = new RegExp(`^\\s*${ENGINE.cli.module.replace(/[./]/g, "\\$&")} (\\S+)`, "m").exec(gomod)?.[1];
        assert.equal(required, ENGINE.cli.version);
        assert.match(gomod, new RegExp(`^tool ${ENGINE.cli.mainPackage.replace(/[./]/g, "\\$&")}$`, "m"));
        // sdk/v3 must move with pkg/v3: the CLI's packages are built against the SDK of their own release.
        assert.match(
            gomod,
            new RegExp(`github\\.com/pulumi/pulumi/sdk/v3 ${ENGINE.cli.version.replace(/\./g, "\\.")}\\b`),
        );
    });
});

describe("engine cache and harness environment", () => {
    it("cache root: MLOPS_TESTBED_CACHE, else XDG_CACHE_HOME, else ~/.cache, then mlops-testbed", () => {
        assert.equal(cacheRoot({ MLOPS_TESTBED_CACHE: "/c", XDG_CACHE_HOME: "/x", HOME: "/h" }), "/c");
        assert.equal(cacheRoot({ XDG_CACHE_HOME: "/x", HOME: "/h" }), "/x/mlops-testbed");
        assert.equal(cacheRoot({ HOME: "/h" }), "/h/.cache/mlops-testbed");
        assert.equal(
            pieceBinary("kubernetes", { MLOPS_TESTBED_CACHE: "/c" }),
            `/c/pulumi-resource-kubernetes-${ENGINE.kubernetes.version}/bin/pulumi-resource-kubernetes`,
        );
        assert.equal(pieceDir("cli", { MLOPS_TESTBED_CACHE: "/c" }), `/c/pulumi-${ENGINE.cli.version}`);
    });

    it("keeps the CLI inside the scratch folder and off the network: no update check, no plugin download, no $PATH plugins", () => {
        const env = engineEnv("/scratch", "pw");
        assert.equal(env.PULUMI_HOME, "/scratch/home");
        assert.equal(env.PULUMI_BACKEND_URL, "file:///scratch/backend");
        assert.equal(env.PULUMI_CONFIG_PASSPHRASE, "pw");
        for (const k of [
            "PULUMI_SKIP_UPDATE_CHECK",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION",
            "PULUMI_IGNORE_AMBIENT_PLUGINS",
        ]) {
            assert.equal(env[k], "true", k);
        }
    });

    it("points the project's plugins at the built providers, and refuses a provider that is not built", () => {
        const cache = fs.mkdtempSync(path.join(os.tmpdir(), "engine-spec-"));
        try {
            const env = { MLOPS_TESTBED_CACHE: cache };
            assert.throws(
                () => projectFile("p", ["kubernetes"], env),
                /pulumi-resource-kubernetes is not built .*npm run engine:build/,
            );
            fs.mkdirSync(path.dirname(pieceBinary("kubernetes", env)), { recursive: true });
            fs.writeFileSync(pieceBinary("kubernetes", env), "");
            const doc = parse(projectFile("p", ["kubernetes"], env)) as {
                name: string;
                runtime: string;
                plugins: { providers: { name: string; path: string }[] };
            };
            assert.equal(doc.name, "p");
            assert.equal(doc.runtime, "nodejs");
            // No version: a project plugin without one serves whatever version the SDK asks for.
            assert.deepEqual(doc.plugins.providers, [
                { name: "kubernetes", path: path.dirname(pieceBinary("kubernetes", env)) },
            ]);
        } finally {
            fs.rmSync(cache, { recursive: true, force: true });
        }
    });
});

describe("engine test: the stack, its changes and what it leaves out", () => {
    let base: Plan;
    let changed: Plan;
    const endpoint = "http://127.0.0.45:9000";
    before(async () => {
        const run = (config: Record<string, unknown>) =>
            runProgram(
                program as unknown as () => Promise<Record<string, unknown>>,
                loadStack("existing-shared-example", { ...config, "mlops-testbed:kubeconfig": { secure: "x" } }),
            );
        base = await run(engineStackConfig(endpoint));
        changed = await run(engineStackConfig(endpoint, CHANGE));
    });

    it("the stack file is the shared example with the store on the loopback server and no egress (so its /32)", () => {
        const c = engineStackConfig(endpoint);
        const store = (c["mlops-testbed:existing"] as { store: Record<string, unknown> }).store;
        assert.equal(store.endpoint, endpoint);
        assert.equal(store.egress, undefined);
        assert.equal(c["mlops-testbed:kubeconfig"], undefined);
        const policies = base.resources.filter((r) => r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy");
        assert.ok(JSON.stringify(policies.map((p) => p.inputs)).includes('"127.0.0.45/32"'));
    });

    it("the change adds one version with the new weights: its objects and a new route created, the old route deleted", () => {
        const models = engineStackConfig(endpoint, CHANGE)["mlops-testbed:models"] as {
            versions: { name: string }[];
            traffic: { weights: Record<string, number> };
        }[];
        assert.deepEqual(
            models[0].versions.map((v) => v.name),
            ["v1", "v2", "v3"],
        );
        assert.deepEqual(models[0].traffic.weights, { v1: 80, v2: 10, v3: 10 });
        const change = planChange(base, changed);
        const isRoute = (u: string) => u.includes(":HTTPRoute::model-routing-route-iris-");
        const created = [...change.create].filter((u) => !isRoute(u));
        assert.ok(created.length >= 10, `${created.length} creates`);
        assert.ok(
            created.every((u) => u.includes("iris-v3")),
            created.join("\n"),
        );
        // A version changes the route's shape: a new route (new name) from config, the old one deleted after it.
        const [newRoute] = [...change.create].filter(isRoute);
        const [oldRoute] = [...change.delete];
        assert.equal(change.delete.size, 1);
        assert.ok(newRoute && isRoute(oldRoute) && newRoute !== oldRoute, `${newRoute} / ${oldRoute}`);
        // What else changes (as the engine previewed it): the pipelines' routes map and the route updater's Role.
        assert.deepEqual(short(change.update), [
            "mlops-testbed:pipelines:Tekton$kubernetes:core/v1:ConfigMap::tekton-settings",
            "mlops-testbed:pipelines:Tekton$kubernetes:rbac.authorization.k8s.io/v1:Role::tekton-route-updater",
        ]);
        const back = planChange(changed, base);
        assert.deepEqual([...back.delete].sort(), [...change.create].sort());
        assert.deepEqual([...back.create].sort(), [...change.delete].sort());
        assert.deepEqual([...back.update].sort(), [...change.update].sort());
    });

    it("names the webhook gateway's objects as the engine does: with the triggers component's type too", () => {
        const urns = base.resources.map((r) => r.urn);
        assert.ok(
            urns.some((u) =>
                u.includes(
                    "::mlops-testbed:pipelines:PipelineTriggers$mlops-testbed:pipelines:WebhookGateway$kubernetes:core/v1:Service::",
                ),
            ),
        );
    });

    it("leaves out exactly the Helm releases and what depends on them", () => {
        const out = excludedUrns(base);
        const types = [...out].map((u) => base.resources.find((r) => r.urn === u)!.type).sort();
        assert.deepEqual(types, [
            "kubernetes:batch/v1:CronJob",
            "kubernetes:helm.sh/v3:Release",
            "kubernetes:helm.sh/v3:Release",
        ]);
    });

    it("rebuilds the state before issue 17's moves: moved resources at their old URNs under the old parent", () => {
        const plan = planJsonResources(base);
        const moved = plan.filter((r) => r.movedFrom);
        assert.ok(moved.length >= 5, `${moved.length} moved`);
        const newParent = moved[0].parent!;
        const oldParent = plan.find((r) => r.urn === newParent)!.parent!;
        const state = {
            resources: plan.map((r) => ({
                urn: r.urn,
                parent: r.parent,
                dependencies: r.dependsOn,
                propertyDependencies: { x: r.dependsOn },
            })),
        };
        const { deployment, moved: renamed } = stateBeforeMoves(state, { resources: plan });
        const urns = new Set(deployment.resources.map((r: { urn: string }) => r.urn));
        for (const r of moved) {
            assert.ok(urns.has(r.movedFrom![0]) && !urns.has(r.urn), r.urn);
            const now = deployment.resources.find((x: { urn: string }) => x.urn === r.movedFrom![0]);
            assert.equal(now.parent, oldParent);
        }
        assert.ok(!urns.has(newParent), "the new component is gone");
        assert.equal(renamed.size, moved.length);
        const refs = JSON.stringify(deployment.resources.map((r: { dependencies: string[] }) => r.dependencies));
        for (const r of moved) assert.ok(!refs.includes(`"${r.urn}"`), r.urn);
    });
});

/** URNs without stack and project, sorted. */
const short = (urns: Iterable<string>) => [...urns].map((u) => u.split("::").slice(2).join("::")).sort();

/** The plan's resources as plan.json writes them (with movedFrom). */
function planJsonResources(plan: Plan) {
    return plan.resources.map((r) => ({ ...r, ...(movedFrom(r).length > 0 ? { movedFrom: movedFrom(r) } : {}) }));
}

describe("engine state vs plan", () => {
    it("outputOnlyPaths names what the provider filled in, nested, and nothing the plan had", () => {
        const planned = { metadata: { name: "a", labels: { x: "1" } }, spec: { ports: [{ port: 80 }] } };
        const actual = {
            metadata: { name: "a", labels: { x: "1" }, uid: "u" },
            spec: { ports: [{ port: 80, protocol: "TCP" }], clusterIP: "10.0.0.1" },
            status: {},
            __inputs: {},
        };
        assert.deepEqual(outputOnlyPaths(actual, planned), ["metadata.uid", "spec.clusterIP", "status"]);
    });

    it("stateBeyondPlan groups what the state gained by type, leaving out the metadata every server sets", () => {
        const urn = (n: string) => `urn:pulumi:s::p::kubernetes:core/v1:Service::${n}`;
        const plan = {
            resources: ["a", "b"].map((n) => ({ urn: urn(n), inputs: { spec: { ports: [] } } })),
        } as unknown as Pick<Plan, "resources">;
        const state = ["a", "b"].map((n) => ({
            urn: urn(n),
            type: "kubernetes:core/v1:Service",
            custom: true,
            outputs: { metadata: { uid: n }, spec: { ports: [], clusterIP: "10.0.0.1" } },
        }));
        assert.deepEqual(stateBeyondPlan(plan, state), ["kubernetes:core/v1:Service: metadata, spec.clusterIP"]);
    });

    it("inputsChangedByProvider names dropped, added and changed inputs of Kubernetes objects only", () => {
        const urn = (t: string, n: string) => `urn:pulumi:s::p::${t}::${n}`;
        const secret = "kubernetes:core/v1:Secret";
        const provider = "pulumi:providers:kubernetes";
        const plan = {
            resources: [
                {
                    urn: urn(secret, "a"),
                    inputs: { metadata: { name: "a", annotations: {} }, stringData: { k: "v" }, type: "Opaque" },
                },
                { urn: urn(provider, "p"), inputs: {} },
            ],
        } as unknown as Pick<Plan, "resources">;
        const state = [
            {
                urn: urn(secret, "a"),
                type: secret,
                custom: true,
                inputs: { metadata: { name: "a" }, data: { k: "dg==" }, type: "opaque" },
            },
            { urn: urn(provider, "p"), type: provider, custom: true, inputs: { version: "4" } },
        ];
        assert.deepEqual(inputsChangedByProvider(plan, state), [
            `${secret}: +data, -metadata.annotations, -stringData, ~type`,
        ]);
    });

    it("differingPaths names removed, added and changed paths, nested, arrays whole", () => {
        assert.deepEqual(differingPaths({}, { apiVersion: "v1", metadata: { name: "s" } }), [
            "+apiVersion",
            "+metadata",
        ]);
        assert.deepEqual(differingPaths({ a: { b: 1, c: [1] }, d: 1, __x: 1 }, { a: { b: 2, c: [1, 2] }, e: 1 }), [
            "~a.b",
            "~a.c",
            "-d",
            "+e",
        ]);
        assert.deepEqual(differingPaths({ a: [1] }, { a: [1] }), []);
    });

    it("stepChanges: a provider's diff when it has one, else the state before and after; same steps left out", () => {
        const urn = "urn:pulumi:s::p::kubernetes:core/v1:Secret::src";
        const event = (op: string, extra: object): EngineEvent =>
            ({ resOutputsEvent: { metadata: { op, urn, type: "t", provider: "", ...extra } } }) as EngineEvent;
        const changes = stepChanges([
            event("update", {
                old: { inputs: {}, outputs: { a: 1 } },
                new: { inputs: { kind: "Secret" }, outputs: { a: 1 } },
            }),
            event("replace", { diffs: ["data"], keys: ["data"] }),
            event("same", { diffs: ["x"] }),
        ]);
        assert.deepEqual(
            changes.map((c) => [c.op, c.paths, c.replaceKeys]),
            [
                ["update", ["inputs +kind"], []],
                ["replace", ["data"], ["data"]],
            ],
        );
    });

    it("isDefaultProvider: the engine's default providers, not the program's explicit ones", () => {
        assert.ok(isDefaultProvider("urn:pulumi:s::p::pulumi:providers:random::default_4_21_2"));
        assert.ok(isDefaultProvider("urn:pulumi:s::p::pulumi:providers:random::default"));
        assert.ok(
            !isDefaultProvider(
                "urn:pulumi:s::p::mlops-testbed:existing:Platform$pulumi:providers:kubernetes::existing-k8s",
            ),
        );
    });

    it("the mock runtime's URNs carry the parent's whole type chain, as the engine's do", () => {
        const parent = "urn:pulumi:s::p::a:b:Outer$a:b:Inner::inner";
        assert.equal(
            qualifiedType(parent, "kubernetes:core/v1:Service"),
            "a:b:Outer$a:b:Inner$kubernetes:core/v1:Service",
        );
        assert.equal(qualifiedType("urn:pulumi:s::p::pulumi:pulumi:Stack::p-s", "a:b:C"), "a:b:C");
        assert.equal(qualifiedType("", "a:b:C"), "a:b:C");
    });

    it("diagnostics keeps the engine's Diagnostics section of a failed command, else the output's end", () => {
        const out = [
            "Previewing update (engine):",
            " ~ a update",
            "Diagnostics:",
            "  a: error: boom",
            "",
            "Resources:",
            "    1 errored",
        ];
        assert.equal(diagnostics(out.join("\n")), "Diagnostics:\n  a: error: boom");
        const noSection = Array.from({ length: 20 }, (_, i) => `line ${i}`).join("\n");
        assert.equal(diagnostics(noSection), Array.from({ length: 15 }, (_, i) => `line ${i + 5}`).join("\n"));
    });

    it("filesContaining finds a value in plaintext or base64, in nested files, and nothing else", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "engine-spec-"));
        try {
            fs.mkdirSync(path.join(dir, "a", "b"), { recursive: true });
            fs.writeFileSync(path.join(dir, "a", "b", "plain.json"), '{"k":"S3CR3T-VALUE"}');
            fs.writeFileSync(
                path.join(dir, "a", "encoded.json"),
                `{"k":"${Buffer.from("OTHER-KEY").toString("base64")}"}`,
            );
            fs.writeFileSync(path.join(dir, "clean.json"), '{"k":{"ciphertext":"v1:abc"}}');
            const found = filesContaining(dir, ["S3CR3T-VALUE", "OTHER-KEY"])
                .map((f) => path.relative(dir, f))
                .sort();
            assert.deepEqual(found, ["a/b/plain.json", "a/encoded.json"]);
            assert.deepEqual(filesContaining(dir, ["absent"]), []);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("the tools' arguments: a piece to build must be a known one, a value-taking flag needs its value", () => {
        assert.deepEqual(parseBuildArgs(["--force", "--only", "kubernetes"]), { force: true, only: "kubernetes" });
        assert.throws(
            () => parseBuildArgs(["--only", "helm"]),
            /--only needs one of cli, nodejsLanguageHost, kubernetes, random/,
        );
        assert.throws(() => parseBuildArgs(["--fast"]), /unknown argument --fast/);
        assert.deepEqual(parseTestArgs(["--scratch", "/s", "--keep"]), { scratch: "/s", keep: true });
        assert.deepEqual(parseTestArgs([]), { scratch: undefined, keep: false });
        assert.throws(() => parseTestArgs(["--scratch"]), /--scratch/);
        assert.throws(() => parseTestArgs(["--cloud"]), /Unknown option '--cloud'/);
        assert.deepEqual(parsePreviewArgs([]), { base: "main", expectNoChanges: false, keep: false });
        assert.deepEqual(parsePreviewArgs(["--base", "v1.2", "--keep", "--expect-no-changes"]), {
            base: "v1.2",
            expectNoChanges: true,
            keep: true,
        });
        assert.throws(() => parsePreviewArgs(["--base", ""]), /--base needs a git ref/);
    });
});
