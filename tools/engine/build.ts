/**
 * Builds the Pulumi engine from upstream Go modules into the build cache (outside the repository):
 * `npm run engine:build [-- --force] [--only <piece>]`.
 *
 * - The CLI is built from the wrapper module tools/engine/cli (its go.mod pins pkg/v3 and every dependency).
 * - The Kubernetes provider embeds a schema that its module ships only as an input: its own generate step
 *   (`go run ./generate.go` with VERSION set) runs in a scratch copy of the module in a temporary directory, then
 *   `go build` runs there; nothing upstream enters the repository.
 * - Pieces the proxy does not serve (versions.ts, source "unavailable") are asked for once more, so the run says
 *   with the proxy's own words whether that is still so.
 *
 * Each built piece gets `<cache>/<tool>-<version>/bin/<binary>` and a `build.json` (module, version, Go, seconds,
 * bytes). A piece whose build.json matches is not rebuilt unless --force; --only <piece> builds one piece (cli,
 * kubernetes). Exit codes: 0 every "module" piece asked for built or cached, 1 a build failed, 2 bad arguments.
 */
import { spawnSync, type SpawnSyncOptions } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runAsScript, UsageError } from "../cli";
import { ENGINE, pieceBinary, pieceDir, type EnginePiece, type EnginePieceName } from "./versions";

const CLI_MODULE_DIR = path.join(__dirname, "cli");

/** What build.json records about a built piece. */
export interface BuildRecord {
    readonly piece: EnginePieceName;
    readonly module: string;
    readonly version: string;
    readonly go: string;
    readonly seconds: number;
    readonly bytes: number;
    readonly builtAt: string;
    readonly cores: number;
    /** 1-minute load average when the build started: other work on the machine slows a build. */
    readonly loadAtStart: number;
}

/** The outcome of one piece in this run. */
export type BuildOutcome =
    | { readonly piece: EnginePieceName; readonly status: "built" | "cached"; readonly record: BuildRecord }
    | { readonly piece: EnginePieceName; readonly status: "unavailable" | "failed"; readonly error: string };

/** `-X` flags that stamp each piece's version the way its upstream release build does. */
const VERSION_LDFLAGS: Record<"cli" | "kubernetes", (version: string) => string> = {
    cli: (v) => `-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=${v}`,
    kubernetes: (v) => `-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=${v.replace(/^v/, "")}`,
};

function run(cmd: string, args: string[], opts: SpawnSyncOptions = {}): { ok: boolean; out: string } {
    const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, ...opts });
    const out = `${r.stdout ?? ""}${r.stderr ?? ""}`.trim();
    return { ok: r.status === 0, out: r.error ? `${r.error.message}\n${out}` : out };
}

function goVersion(): string {
    return run("go", ["env", "GOVERSION"]).out;
}

function readRecord(name: EnginePieceName): BuildRecord | undefined {
    const file = path.join(pieceDir(name), "build.json");
    if (!fs.existsSync(file) || !fs.existsSync(pieceBinary(name))) return undefined;
    const record = JSON.parse(fs.readFileSync(file, "utf8")) as BuildRecord;
    const piece: EnginePiece = ENGINE[name];
    return record.module === piece.module && record.version === piece.version ? record : undefined;
}

/** Asks the proxy for a module version; returns the go command's error text, or undefined when it is served. */
function moduleError(module: string, version: string, env: NodeJS.ProcessEnv): string | undefined {
    const r = run("go", ["mod", "download", "-json", `${module}@${version}`], { env, cwd: os.tmpdir() });
    if (r.ok) return undefined;
    try {
        return (JSON.parse(r.out) as { Error?: string }).Error ?? r.out;
    } catch {
        return r.out;
    }
}

function moduleDir(module: string, version: string, env: NodeJS.ProcessEnv): string {
    const r = run("go", ["mod", "download", "-json", `${module}@${version}`], { env, cwd: os.tmpdir() });
    if (!r.ok) throw new Error(`go mod download ${module}@${version}: ${r.out}`);
    return (JSON.parse(r.out) as { Dir: string }).Dir;
}

/** Builds into a temporary folder, then moves it into place, so an interrupted build leaves no half-built piece. */
function install(name: EnginePieceName, build: (binDir: string) => void): BuildRecord {
    const piece: EnginePiece = ENGINE[name];
    const finalDir = pieceDir(name);
    const tmpDir = `${finalDir}.tmp`;
    fs.rmSync(tmpDir, { recursive: true, force: true });
    fs.mkdirSync(path.join(tmpDir, "bin"), { recursive: true });
    const loadAtStart = os.loadavg()[0];
    const started = process.hrtime.bigint();
    build(path.join(tmpDir, "bin"));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const record: BuildRecord = {
        piece: name,
        module: piece.module,
        version: piece.version,
        go: goVersion(),
        seconds: Math.round(seconds * 10) / 10,
        bytes: fs.statSync(path.join(tmpDir, "bin", piece.binary)).size,
        builtAt: new Date().toISOString(),
        cores: os.cpus().length,
        loadAtStart: Math.round(loadAtStart * 100) / 100,
    };
    fs.writeFileSync(path.join(tmpDir, "build.json"), `${JSON.stringify(record, null, 2)}\n`);
    fs.rmSync(finalDir, { recursive: true, force: true });
    fs.renameSync(tmpDir, finalDir);
    return record;
}

function mustRun(what: string, cmd: string, args: string[], opts: SpawnSyncOptions): void {
    const r = run(cmd, args, opts);
    if (!r.ok) throw new Error(`${what} failed: ${cmd} ${args.join(" ")}\n${r.out}`);
}

/** The CLI from the wrapper module, plus the dynamic-provider shim the release ships next to it. */
function buildCli(env: NodeJS.ProcessEnv): BuildRecord {
    const piece = ENGINE.cli;
    return install("cli", (binDir) => {
        mustRun(
            "building the Pulumi CLI",
            "go",
            [
                "build",
                "-trimpath",
                "-ldflags",
                `-s -w ${VERSION_LDFLAGS.cli(piece.version)}`,
                "-o",
                path.join(binDir, piece.binary),
                piece.mainPackage,
            ],
            { cwd: CLI_MODULE_DIR, env },
        );
        // The release tarball carries sdk/nodejs/dist's shim next to the CLI; the CLI looks for it there (bundled plugin).
        const sdk = run("go", ["list", "-m", "-json", "github.com/pulumi/pulumi/sdk/v3"], { cwd: CLI_MODULE_DIR, env });
        if (!sdk.ok) throw new Error(`locating the sdk/v3 module: ${sdk.out}`);
        const sdkDir = (JSON.parse(sdk.out) as { Dir: string }).Dir;
        const shim = "pulumi-resource-pulumi-nodejs";
        fs.copyFileSync(path.join(sdkDir, "nodejs", "dist", shim), path.join(binDir, shim));
        fs.chmodSync(path.join(binDir, shim), 0o755);
    });
}

/** The Kubernetes provider: upstream's generate step, then go build, in a scratch copy of the module. */
function buildKubernetes(env: NodeJS.ProcessEnv): BuildRecord {
    const piece = ENGINE.kubernetes;
    return install("kubernetes", (binDir) => {
        const src = moduleDir(piece.module, piece.version, env);
        const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-resource-kubernetes-"));
        try {
            fs.cpSync(src, scratch, { recursive: true });
            run("chmod", ["-R", "u+w", scratch]);
            // The module's go.mod points the SDK at ../sdk (the repository's checkout); the proxy's copy replaces it.
            mustRun(
                "dropping the ../sdk replace",
                "go",
                ["mod", "edit", "-dropreplace", "github.com/pulumi/pulumi-kubernetes/sdk/v4"],
                { cwd: scratch, env },
            );
            const cmdDir = path.join(scratch, "cmd", piece.binary);
            const version = piece.version.replace(/^v/, "");
            const goEnv = { ...env, GOFLAGS: `${env.GOFLAGS ?? ""} -mod=mod`.trim() };
            mustRun("the provider's generate step", "go", ["run", "./generate.go"], {
                cwd: cmdDir,
                env: { ...goEnv, VERSION: version },
            });
            mustRun(
                "building the Kubernetes provider",
                "go",
                [
                    "build",
                    "-trimpath",
                    "-ldflags",
                    `-s -w ${VERSION_LDFLAGS.kubernetes(piece.version)}`,
                    "-o",
                    path.join(binDir, piece.binary),
                    `./cmd/${piece.binary}`,
                ],
                { cwd: scratch, env: goEnv },
            );
        } finally {
            fs.rmSync(scratch, { recursive: true, force: true });
        }
    });
}

const BUILDERS: Partial<Record<EnginePieceName, (env: NodeJS.ProcessEnv) => BuildRecord>> = {
    cli: buildCli,
    kubernetes: buildKubernetes,
};

export function buildEngine(
    options: { force?: boolean; only?: EnginePieceName; log?: (line: string) => void } = {},
): BuildOutcome[] {
    const log = options.log ?? ((line: string) => console.log(line));
    // The machine's own Go (no toolchain download) and no VCS stamping: the build sits inside this repository's
    // checkout, whose commit says nothing about the upstream code being built.
    const goflags = [process.env.GOFLAGS, "-buildvcs=false"].filter(Boolean).join(" ");
    const env = { ...process.env, GOTOOLCHAIN: "local", GOFLAGS: goflags };
    const outcomes: BuildOutcome[] = [];
    for (const name of Object.keys(ENGINE) as EnginePieceName[]) {
        if (options.only && options.only !== name) continue;
        const piece: EnginePiece = ENGINE[name];
        const builder = BUILDERS[name];
        if (piece.source === "unavailable" || !builder) {
            const error = moduleError(piece.module, piece.version, env);
            if (error === undefined) {
                log(
                    `${name}: ${piece.module}@${piece.version} is served now; give it a builder and mark it "module" in versions.ts`,
                );
                outcomes.push({ piece: name, status: "unavailable", error: "served now, but no builder yet" });
            } else {
                log(`${name}: unavailable: ${error.split("\n")[0]}`);
                outcomes.push({ piece: name, status: "unavailable", error });
            }
            continue;
        }
        const cached = options.force ? undefined : readRecord(name);
        if (cached) {
            log(`${name}: cached ${pieceBinary(name)} (${piece.version}, built in ${cached.seconds}s)`);
            outcomes.push({ piece: name, status: "cached", record: cached });
            continue;
        }
        log(`${name}: building ${piece.module}@${piece.version} ...`);
        try {
            const record = builder(env);
            log(
                `${name}: built ${pieceBinary(name)} in ${record.seconds}s, ${(record.bytes / 1048576).toFixed(1)} MiB`,
            );
            outcomes.push({ piece: name, status: "built", record });
        } catch (e) {
            const error = e instanceof Error ? e.message : String(e);
            log(`${name}: FAILED\n${error}`);
            outcomes.push({ piece: name, status: "failed", error });
        }
    }
    return outcomes;
}

const USAGE = `Usage: npm run engine:build -- [--force] [--only <piece>]

Builds the Pulumi CLI and the Kubernetes provider from their pinned Go modules into the build cache
(\${MLOPS_TESTBED_CACHE:-\${XDG_CACHE_HOME:-~/.cache}/mlops-testbed}); a piece whose build matches its pin is reused.

  --force          rebuild even when the cached build matches its pin
  --only <piece>   build one piece: ${Object.keys(ENGINE).join(", ")}
  -h, --help       show this help
`;

/** The build's options; a problem is a UsageError (exit 2 with the usage). */
export function parseArgs(argv: readonly string[]): { force: boolean; only?: EnginePieceName } {
    const args: { force: boolean; only?: EnginePieceName } = { force: false };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--force") args.force = true;
        else if (a === "--only") {
            const v = argv[++i];
            if (!v || !(v in ENGINE))
                throw new UsageError(`--only needs one of ${Object.keys(ENGINE).join(", ")}; got ${v ?? "nothing"}`);
            args.only = v as EnginePieceName;
        } else throw new UsageError(`unknown argument ${a}`);
    }
    return args;
}

function main(argv: readonly string[]): number {
    const args = parseArgs(argv);
    const outcomes = buildEngine(args);
    console.log("");
    console.log("piece               status       version                               seconds   MiB");
    for (const o of outcomes) {
        const piece: EnginePiece = ENGINE[o.piece];
        const figures =
            "record" in o
                ? `${String(o.record.seconds).padStart(7)} ${(o.record.bytes / 1048576).toFixed(1).padStart(5)}`
                : "";
        console.log(`${o.piece.padEnd(20)}${o.status.padEnd(13)}${piece.version.padEnd(38)}${figures}`);
    }
    return outcomes.some((o) => o.status === "failed") ? 1 : 0;
}

runAsScript(module, USAGE, main);
