/**
 * `npm test`: every check of the project at once, side by side (docs/tests.md): the TypeScript type check and ESLint
 * on one program (tools/ts-checks.ts), Prettier, the Python linters, shellcheck, and mocha's specs in parallel
 * workers. Mocha's report streams as it runs; each other check's output is printed when it ends. Exit 1 when any
 * check fails, naming it.
 *
 * Every cache a check keeps (the last clean runs' keys, Prettier's and mypy's caches, the run's plans, Node's compile
 * cache) is keyed by what the check reads, so it changes how long a run takes, never what it finds. Prettier and the
 * Python and shell linters are not run again while nothing they read changed since their last clean run (the
 * TypeScript checks do the same themselves). `--only NAME` runs some checks alone (`npm run lint:ts` runs Prettier so).
 */
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { CLONE_CACHE, CleanRuns, contentKey, filesUnder, NODE_COMPILE_CACHE_DIR } from "./cache";
import { parseOptions, runAsScript, UsageError } from "./cli";
import { PROJECT_ROOT } from "./stack";

const USAGE = `Usage: npm run test (or npm test)

Runs every check side by side: TypeScript type check and ESLint (one program), Prettier, ruff and mypy,
shellcheck, and mocha's specs (docs/tests.md).

Options:
  --only NAME  Run only this check (mocha, typescript, prettier, python, shell); may be repeated
  -h, --help   Show this help

Exit codes: 0 all passed, 1 a check failed, 2 bad arguments.`;

const bin = (name: string) => path.join(PROJECT_ROOT, "node_modules", ".bin", name);

/**
 * Set for every check and each process it starts: Node keeps the V8 code it compiles for each module in the clone's
 * cache (Node's own compile cache, keyed by the file and its content), so the many processes that load the Pulumi SDK
 * and TypeScript (two mocha workers, the tools each spec starts, the checks) compile each module once.
 */
export const SHARED_ENV: Readonly<Record<string, string>> = {
    NODE_COMPILE_CACHE: NODE_COMPILE_CACHE_DIR,
};

/** What a check reads: files relative to the project root, and what else its result depends on (tool versions). */
export interface CheckInputs {
    readonly files: readonly string[];
    readonly extra: string;
}

/** One check: a command, and whether its output streams (mocha) or waits for it to end. */
export interface Check {
    readonly name: string;
    readonly command: string;
    readonly args: readonly string[];
    readonly env?: Readonly<Record<string, string>>;
    readonly stream: boolean;
    /**
     * Its processes' scheduling priority (nice value, 0 to 19). Mocha, which ends last, keeps the default; the others
     * take what CPU it leaves, so a run is as short as mocha's share of the cores allows.
     */
    readonly niceness: number;
    /** Everything the check reads, when it is a pure function of them: then a clean run is not repeated. */
    readonly inputs?: () => CheckInputs;
}

/**
 * What the Python linters read (tools/python-lint.sh): every Python file and stub, the TOML configs (pyproject.toml,
 * ruff.toml), the pin files, the two scripts, and the environment they run in (its directory is named by a hash of
 * the interpreter's version and the pins).
 */
export function pythonLintInputs(root = PROJECT_ROOT): CheckInputs {
    const files = filesUnder(root, [""], (name) => /\.(py|pyi|toml)$|^requirements.*\.txt$/.test(name));
    const env = execFileSync("bash", [path.join(root, "tools", "python-env.sh"), "path"], { encoding: "utf8" });
    return {
        files: [...new Set([...files, "tools/python-lint.sh", "tools/python-env.sh"])].sort(),
        extra: `python env ${env.trim()}`,
    };
}

/** What shellcheck reads (tools/shell-lint.sh): every shell script, .ci/run, and shellcheck's version. */
export function shellLintInputs(root = PROJECT_ROOT): CheckInputs {
    const files = filesUnder(root, [""], (name) => name.endsWith(".sh") || name === ".shellcheckrc");
    const version = execFileSync("shellcheck", ["--version"], { encoding: "utf8" });
    return {
        files: [...new Set([...files, ".ci/run"])].filter((f) => fs.existsSync(path.join(root, f))).sort(),
        extra: version,
    };
}

/** Where a package `name` required from `fromDir` is installed (Node's lookup up the node_modules folders). */
function installedPackageDir(name: string, fromDir: string): string | undefined {
    for (let dir = fromDir; ; dir = path.dirname(dir)) {
        const candidate = path.join(dir, "node_modules", name);
        if (fs.existsSync(path.join(candidate, "package.json"))) return candidate;
        if (path.dirname(dir) === dir) return undefined;
    }
}

/**
 * Prettier's version and every plugin the Prettier config names, with what each plugin loads (its dependencies and the
 * optional ones installed here: the Oxc plugin's parser and its native binding), as sorted "name@version" lines.
 * Prettier keys its cache entries by its own version and the options, which name a plugin but not its version, so a
 * plugin upgrade must change the cache's key.
 */
export function prettierVersions(root = PROJECT_ROOT): string {
    let config: { plugins?: string[]; overrides?: { options?: { plugins?: string[] } }[] } = {};
    try {
        config = JSON.parse(fs.readFileSync(path.join(root, ".prettierrc.json"), "utf8")) as typeof config;
    } catch {
        // Missing or broken: Prettier reports it when it runs.
    }
    const plugins = [...(config.plugins ?? []), ...(config.overrides ?? []).flatMap((o) => o.options?.plugins ?? [])];
    const seen = new Set<string>();
    const visit = (name: string, fromDir: string, optional: boolean) => {
        const dir = installedPackageDir(name, fromDir);
        if (!dir) {
            // An optional one is another platform's binding; a missing plugin is Prettier's error to report.
            if (!optional) seen.add(`${name}@missing`);
            return;
        }
        const manifest = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as {
            version: string;
            dependencies?: Record<string, string>;
            optionalDependencies?: Record<string, string>;
        };
        const id = `${name}@${manifest.version}`;
        if (seen.has(id)) return;
        seen.add(id);
        for (const dep of Object.keys(manifest.dependencies ?? {})) visit(dep, dir, false);
        for (const dep of Object.keys(manifest.optionalDependencies ?? {})) visit(dep, dir, true);
    };
    for (const name of ["prettier", ...plugins]) visit(name, root, false);
    return [...seen].sort().join("\n");
}

/**
 * Where Prettier keeps its cache: a file per set of Prettier and plugin versions (prettierVersions), so that entries
 * written by other versions are never trusted.
 */
export function prettierCacheLocation(root = PROJECT_ROOT, cacheDir = CLONE_CACHE): string {
    const versions = createHash("sha256").update(prettierVersions(root)).digest("hex").slice(0, 16);
    return path.join(cacheDir, `prettier-${versions}`);
}

/**
 * What `prettier --check .` reads: every file of the clone outside the folders cache.ts never walks (all of them
 * ignored by .gitignore, which Prettier honours), a superset of the files it checks, its config and ignore files
 * included; and the versions of Prettier and its plugins.
 */
export function prettierInputs(root = PROJECT_ROOT): CheckInputs {
    return { files: filesUnder(root, [""], () => true), extra: prettierVersions(root) };
}

/**
 * The nice value of every check but mocha. On two cores the checks together need more CPU than the cores give; at
 * equal priority mocha got about 60 % of it and ended last, with the type check done long before.
 */
export const BACKGROUND_NICENESS = 10;

/** Started in this order; mocha, the longest, first. */
export const CHECKS: readonly Check[] = [
    {
        name: "mocha",
        command: bin("mocha"),
        args: [],
        // A young generation of up to 64 MB: a plan keeps most of what it allocates until it ends, and copying it
        // through the default 16 MB cost the planning specs about 6 % more CPU.
        env: { NODE_OPTIONS: "--import tsx --max-semi-space-size=64" },
        stream: true,
        niceness: 0,
    },
    // Node with tsx's hooks rather than tsx's command, which only starts the same Node as a child and waits for it.
    // The 64 MB young generation: building the program (1.6 million lines of declarations) and linting it cost about
    // 8 % more CPU through the default 16 MB (21.0-21.4 s against 21.5-23.8 s user, three pairs on a fresh clone).
    {
        name: "typescript",
        command: process.execPath,
        args: ["--import", "tsx", "--max-semi-space-size=64", path.join("tools", "ts-checks.ts")],
        stream: false,
        niceness: BACKGROUND_NICENESS,
    },
    {
        name: "prettier",
        command: bin("prettier"),
        args: [
            "--check",
            "--cache",
            "--cache-strategy",
            "content",
            "--cache-location",
            prettierCacheLocation(),
            "--log-level",
            "warn",
            ".",
        ],
        stream: false,
        niceness: BACKGROUND_NICENESS,
        inputs: prettierInputs,
    },
    {
        name: "python",
        command: "bash",
        args: [path.join("tools", "python-lint.sh")],
        stream: false,
        niceness: BACKGROUND_NICENESS,
        inputs: pythonLintInputs,
    },
    {
        name: "shell",
        command: "bash",
        args: [path.join("tools", "shell-lint.sh")],
        stream: false,
        niceness: BACKGROUND_NICENESS,
        inputs: shellLintInputs,
    },
];

export interface Outcome {
    readonly name: string;
    readonly code: number | null;
    readonly seconds: number;
    readonly output: string;
}

/** The keys of the checks' last clean runs. */
const CLEAN_RUNS = new CleanRuns(path.join(CLONE_CACHE, "test-checks.json"));

/**
 * Runs a check unless its inputs are those of its last clean run; records the key of a clean run whose inputs did
 * not change while it ran (a file saved meanwhile may not have been read).
 */
export async function runUnlessClean(
    check: Check,
    runs: CleanRuns,
    start: (check: Check) => Promise<Outcome>,
    root = PROJECT_ROOT,
): Promise<Outcome> {
    if (!check.inputs) return start(check);
    const keyOf = (inputs: CheckInputs) => contentKey(root, inputs.files, inputs.extra);
    const before = keyOf(check.inputs());
    if (runs.isClean(check.name, before))
        return {
            name: check.name,
            code: 0,
            seconds: 0,
            output: "clean, nothing it reads changed since its last clean run\n",
        };
    const outcome = await start(check);
    if (outcome.code === 0 && keyOf(check.inputs()) === before) runs.record({ [check.name]: before });
    return outcome;
}

export function run(check: Check): Promise<Outcome> {
    const started = performance.now();
    return new Promise((resolve) => {
        // Started through coreutils' nice, so the check and every process it starts run at its priority from the start.
        const [command, args] =
            check.niceness === 0
                ? [check.command, [...check.args]]
                : ["nice", ["-n", String(check.niceness), check.command, ...check.args]];
        const child = spawn(command, args, {
            cwd: PROJECT_ROOT,
            env: { ...process.env, ...SHARED_ENV, ...check.env },
            stdio: check.stream ? ["ignore", "inherit", "inherit"] : ["ignore", "pipe", "pipe"],
        });
        let output = "";
        child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
        child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
        const done = (code: number | null) =>
            resolve({ name: check.name, code, seconds: (performance.now() - started) / 1000, output });
        child.on("error", (err) => {
            output += `${err.message}\n`;
            done(127);
        });
        child.on("close", done);
    });
}

/** The checks named by `--only` (all when none is named); an unknown name is a usage error. */
export function selectChecks(only: readonly string[] | undefined, checks = CHECKS): readonly Check[] {
    if (!only?.length) return checks;
    const unknown = only.filter((name) => !checks.some((c) => c.name === name));
    if (unknown.length) throw new UsageError(`Unknown check: ${unknown.join(", ")}`);
    return checks.filter((c) => only.includes(c.name));
}

async function main(checks: readonly Check[]): Promise<number> {
    const started = performance.now();
    const outcomes = await Promise.all(
        checks.map((c) =>
            runUnlessClean(c, CLEAN_RUNS, run).then((o) => {
                if (!c.stream) {
                    const status = o.code === 0 ? "passed" : `FAILED (exit ${o.code})`;
                    process.stdout.write(`\n--- ${o.name}: ${status} in ${o.seconds.toFixed(1)} s\n${o.output}`);
                }
                return o;
            }),
        ),
    );
    const failed = outcomes.filter((o) => o.code !== 0);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const each = outcomes.map((o) => `${o.name} ${o.seconds.toFixed(1)} s${o.code === 0 ? "" : " FAILED"}`).join(", ");
    process.stdout.write(`\nnpm test: ${failed.length === 0 ? "passed" : "FAILED"} in ${seconds} s (${each})\n`);
    return failed.length === 0 ? 0 : 1;
}

runAsScript(module, USAGE, (argv) => {
    const { values } = parseOptions(argv, { only: { type: "string", multiple: true } });
    return main(selectChecks(values.only));
});
