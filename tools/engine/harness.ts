/**
 * A throwaway stack on the real Pulumi engine: a local file backend, a passphrase secrets provider, a scratch
 * project directory and a generated stack file, all under one scratch folder, with the CLI and providers that
 * tools/engine/build.ts built. Nothing reads or writes ~/.pulumi, and nothing downloads a plugin.
 *
 * The Node.js language host is not to be had from the module proxy (versions.ts), so the program runs in this
 * process through the Automation API's inline program: the API serves the language runtime itself and hands its
 * address to the CLI (`pulumi up --client=<addr>`), and the CLI needs no pulumi-language-nodejs.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import {
    LocalWorkspace,
    PulumiCommand,
    type ConfigMap,
    type EngineEvent,
    type PulumiFn,
    type Stack,
} from "@pulumi/pulumi/automation";
import { parse, stringify } from "yaml";
import { PROJECT_ROOT } from "../stack";
import { ENGINE, pieceBinary, pieceDir, type EnginePieceName } from "./versions";

/** Resource providers a scratch project may wire in: the built Kubernetes provider, the stand-in random provider. */
export type ProviderPiece = Extract<EnginePieceName, "kubernetes" | "random">;

/** The stand-in random provider's folder (its launcher `pulumi-resource-random`; see random-provider/). */
export const RANDOM_STANDIN_DIR = path.join(__dirname, "random-provider");

/** The folder the CLI starts a provider plugin from: the build cache, or the stand-in for random. */
export function providerDir(p: ProviderPiece, env: NodeJS.ProcessEnv = process.env): string {
    return p === "random" ? RANDOM_STANDIN_DIR : path.join(pieceDir(p, env), "bin");
}

export interface ScratchStackArgs {
    /** Folder that holds everything (backend, PULUMI_HOME, project); created if missing, never inside the repo. */
    readonly root: string;
    /** Pulumi project name (the program's config namespace, e.g. `mlops-testbed`). */
    readonly project: string;
    /** Stack name. */
    readonly stack: string;
    /** The program, run in this process. */
    readonly program: PulumiFn;
    /** Providers the program uses; each must be built (tools/engine/build.ts). */
    readonly providers: readonly ProviderPiece[];
    /** Plain stack config: full keys (`ns:key`) to values, written as they are into the stack file. */
    readonly config?: Readonly<Record<string, unknown>>;
    /** Secret stack config: full keys to string values, encrypted with the stack's passphrase. */
    readonly secrets?: Readonly<Record<string, string>>;
}

/** Environment every CLI call gets: scratch home and backend, no update check, no plugin download, no $PATH plugins. */
export function engineEnv(root: string, passphrase: string): Record<string, string> {
    return {
        PULUMI_HOME: path.join(root, "home"),
        PULUMI_BACKEND_URL: `file://${path.join(root, "backend")}`,
        PULUMI_CONFIG_PASSPHRASE: passphrase,
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PULUMI_IGNORE_AMBIENT_PLUGINS: "true",
    };
}

/**
 * Pulumi.yaml of the scratch project: project plugins point the CLI at the built providers whatever version the SDK
 * asks for (a project plugin without a version matches every version), so no plugin is looked up elsewhere.
 */
export function projectFile(
    project: string,
    providers: readonly ProviderPiece[],
    env: NodeJS.ProcessEnv = process.env,
): string {
    for (const p of providers) {
        const binary = path.join(providerDir(p, env), ENGINE[p].binary);
        if (!fs.existsSync(binary))
            throw new Error(`${ENGINE[p].binary} is not built (${binary}): run npm run engine:build`);
    }
    return stringify({
        name: project,
        runtime: "nodejs",
        description: "Scratch project of tools/engine: the program runs inline through the Automation API",
        plugins: { providers: providers.map((p) => ({ name: p, path: providerDir(p, env) })) },
    });
}

/** Creates the scratch project and stack and writes its stack file; returns the Automation API stack. */
export async function createScratchStack(args: ScratchStackArgs): Promise<Stack> {
    const root = path.resolve(args.root);
    for (const dir of ["home", "backend", "project"]) fs.mkdirSync(path.join(root, dir), { recursive: true });
    const workDir = path.join(root, "project");
    fs.writeFileSync(path.join(workDir, "Pulumi.yaml"), projectFile(args.project, args.providers));
    // A project directory has its node_modules: plugins started there resolve @pulumi/pulumi from it (the bundled
    // dynamic-provider shim runs `require.resolve("@pulumi/pulumi/cmd/dynamic-provider")` in the project directory).
    const modules = path.join(workDir, "node_modules");
    if (!fs.existsSync(modules)) fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules"), modules, "dir");
    const passphrase = crypto.randomBytes(24).toString("base64url");
    const cliRoot = pieceDir("cli");
    if (!fs.existsSync(pieceBinary("cli")))
        throw new Error(`the Pulumi CLI is not built (${pieceBinary("cli")}): run npm run engine:build`);
    const env = engineEnv(root, passphrase);
    const pulumiCommand = await withEnv({ PULUMI_HOME: env.PULUMI_HOME }, () => PulumiCommand.get({ root: cliRoot }));
    const stack = await LocalWorkspace.createStack(
        { stackName: args.stack, projectName: args.project, program: args.program },
        {
            workDir,
            pulumiCommand,
            envVars: env,
        },
    );
    // Plain values go into the stack file as they are (objects stay YAML objects, as in a hand-written stack file);
    // `pulumi stack init` wrote the file already (with the passphrase's salt), so it is extended, not replaced.
    const stackFile = path.join(workDir, `Pulumi.${args.stack}.yaml`);
    const doc =
        (fs.existsSync(stackFile)
            ? (parse(fs.readFileSync(stackFile, "utf8")) as Record<string, unknown> | null)
            : null) ?? {};
    doc.config = { ...((doc.config as Record<string, unknown> | undefined) ?? {}), ...(args.config ?? {}) };
    fs.writeFileSync(stackFile, stringify(doc));
    const secrets: ConfigMap = {};
    for (const [key, value] of Object.entries(args.secrets ?? {})) secrets[key] = { value, secret: true };
    if (Object.keys(secrets).length > 0) await stack.setAllConfig(secrets);
    return stack;
}

/**
 * Runs `f` with variables set in this process's environment, then restores them: PulumiCommand.get runs
 * `pulumi version` with the process's environment only, and the CLI writes its log under PULUMI_HOME.
 */
async function withEnv<T>(vars: Record<string, string>, f: () => Promise<T>): Promise<T> {
    const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
    Object.assign(process.env, vars);
    try {
        return await f();
    } finally {
        for (const [k, v] of Object.entries(saved)) {
            if (v === undefined) delete process.env[k];
            else process.env[k] = v;
        }
    }
}

/** Engine events of one operation, in the order the engine emitted them. */
export class EventLog {
    readonly events: EngineEvent[] = [];
    readonly record = (e: EngineEvent): void => {
        this.events.push(e);
    };

    /** Resource steps (`op` and URN) in the order the engine finished them. */
    steps(): { op: string; urn: string; type: string; diffs: string[] }[] {
        return this.events.flatMap((e) => {
            const m = e.resOutputsEvent?.metadata;
            return m ? [{ op: m.op, urn: m.urn, type: m.type, diffs: [...(m.diffs ?? [])] }] : [];
        });
    }
}
