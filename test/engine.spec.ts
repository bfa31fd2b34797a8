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
import { ENGINE, cacheRoot, pieceBinary, pieceDir, type EnginePiece } from "../tools/engine/versions";
import { parseArgs as parseBuildArgs } from "../tools/engine/build";
import { engineEnv, projectFile } from "../tools/engine/harness";
import { PROOF_CONFIG_NAMESPACE, PROOF_KEYS, proofProgram } from "../tools/engine/proof";
import {
    diagnostics,
    filesContaining,
    modelLayerUrns,
    outputOnlyPaths,
    parseArgs as parseTestArgs,
    stackConfig,
    inputsChangedByProvider,
    stateBeyondPlan,
} from "../tools/engine/test-engine";
import { runProgram, type Plan } from "../tools/mock-runtime";
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

describe("engine proof program", () => {
    let full: Plan;
    let proof: Plan;
    before(async () => {
        full = await runProgram(
            program as unknown as () => Promise<Record<string, unknown>>,
            loadStack("existing-example"),
        );
        // The stand-in's keys as the harness sets them: secret config outside the project's namespace.
        const keys = Object.fromEntries(
            Object.values(PROOF_KEYS).map((k) => [`${PROOF_CONFIG_NAMESPACE}:${k}`, { secure: "generated" }]),
        );
        proof = await runProgram(
            proofProgram({ kind: "render", directory: "/nonexistent" }),
            loadStack("existing-example", keys),
        );
    });

    it("registers exactly the real program's model layer, with the same inputs", () => {
        const fullLayer = modelLayerUrns(full);
        const proofLayer = modelLayerUrns(proof);
        // iris v1 and v2 in the example stack, each a component and its objects.
        assert.ok(fullLayer.size >= 2 * 10, `model layer of ${fullLayer.size}`);
        assert.deepEqual([...proofLayer].sort(), [...fullLayer].sort());
        const inputs = (plan: Plan, urn: string) => plan.resources.find((r) => r.urn === urn)!.inputs;
        for (const urn of fullLayer) assert.deepEqual(inputs(proof, urn), inputs(full, urn), urn);
    });

    it("adds only the Kubernetes provider and, per version, the existing platform's credentials Secret", () => {
        const layer = modelLayerUrns(proof);
        const rest = proof.resources.filter((r) => !layer.has(r.urn));
        assert.deepEqual(rest.map((r) => r.type).sort(), [
            "kubernetes:core/v1:Secret",
            "kubernetes:core/v1:Secret",
            "pulumi:providers:kubernetes",
        ]);
        for (const secret of rest.filter((r) => r.type === "kubernetes:core/v1:Secret")) {
            // The real one: StoreIdentity's Secret of the same name, in the version's namespace.
            const real = full.resources.find((r) => r.type === secret.type && r.name === secret.name);
            assert.ok(real, `the real program has no Secret ${secret.name}`);
            assert.deepEqual(secret.inputs, real.inputs, secret.name);
            assert.deepEqual(secret.secretInputs, real.secretInputs, secret.name);
        }
    });

    it("the config-change step adds one version to the example's models and leaves out the placeholder kubeconfig", () => {
        const base = stackConfig();
        const added = stackConfig([{ model: "iris", version: "v3" }]);
        assert.equal(base["mlops-testbed:kubeconfig"], undefined);
        const versions = (c: Record<string, unknown>) =>
            (c["mlops-testbed:models"] as { name: string; versions: { name: string }[] }[])[0].versions.map(
                (v) => v.name,
            );
        assert.deepEqual(versions(base), ["v1", "v2"]);
        assert.deepEqual(versions(added), ["v1", "v2", "v3"]);
        assert.throws(() => stackConfig([{ model: "nope", version: "v1" }]), /no model nope/);
    });
});

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
        assert.deepEqual(parseTestArgs(["--kubeconfig", "/k", "--keep"]), {
            kubeconfig: "/k",
            keep: true,
            scratch: undefined,
        });
        assert.throws(() => parseTestArgs(["--kubeconfig", "--keep"]), /--kubeconfig needs a value/);
        assert.throws(() => parseTestArgs(["--cloud"]), /unknown argument --cloud/);
    });
});
