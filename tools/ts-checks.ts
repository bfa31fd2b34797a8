/**
 * The TypeScript checks in one program: `npm run typecheck` (tsconfig.json's type check, as `tsc --noEmit -p .`) and
 * ESLint over the tree (eslint.config.mjs, as `eslint .`), whose typed rules read the same TypeScript program
 * instead of building a second one (building it, for the @pulumi/* declarations, is most of either check's time).
 *
 *   tsx tools/ts-checks.ts [--typecheck] [--lint]     (neither: both)
 *
 * What it keeps between runs, in the clone's cache (tools/cache.ts): the key of the last clean run, a hash of every
 * file either check reads (sources, JSON, the configs, package-lock.json, Node's version): the same key means the same
 * result, so that run is not repeated. And per file, the key of its last clean type check and lint: a hash of the file,
 * everything it imports transitively and what every file depends on (tools/file-closure-keys.ts). After an edit the
 * program is built again, but only the files whose key changed are type-checked and linted (a file with problems is
 * checked every time, so its problems are always reported). Exit codes: 0 clean, 1 problems, 2 bad arguments.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";
import { CLONE_CACHE, CleanFiles, CleanRuns, contentKey, filesUnder } from "./cache";
import { fileClosureKeys, isProjectFile, relativePath } from "./file-closure-keys";
import { parseOptions, runAsScript } from "./cli";
import { PROJECT_ROOT } from "./stack";

const USAGE = `Usage: tsx tools/ts-checks.ts [--typecheck] [--lint]

Type-checks tsconfig.json's files (as tsc --noEmit -p .) and runs ESLint over the tree (eslint.config.mjs), both on
one TypeScript program; with neither flag, both. A check whose inputs are those of its last clean run is not
repeated.

Options:
  --typecheck   The type check
  --lint        ESLint
  -h, --help    Show this help

Exit codes: 0 clean, 1 problems, 2 bad arguments.`;

/** Folders holding what the checks read; everything else at the top level is a config file named in ROOT_FILES. */
const SOURCE_FOLDERS = ["contract", "infra", "components", "monitoring", "pipelines", "policy", "tools", "test"];
const ROOT_FILES = [
    "tsconfig.json",
    "eslint.config.mjs",
    ".dependency-cruiser.cjs",
    "package.json",
    "package-lock.json",
];
const SOURCE_EXTENSIONS = /\.(ts|mts|cts|js|mjs|cjs|json)$/;
/** What ESLint lints outside the TypeScript program (its typed rules read only .ts files). */
const SCRIPT_EXTENSIONS = /\.(js|mjs|cjs)$/;
/** What ESLint lints (eslint.config.mjs: JavaScript's default extensions and **\/*.ts). */
const LINTED_EXTENSIONS = /\.(ts|mts|cts|js|mjs|cjs)$/;

const CLEAN_RUNS = new CleanRuns(path.join(CLONE_CACHE, "ts-checks.json"));
const CLEAN_FILES = new CleanFiles(path.join(CLONE_CACHE, "ts-checks-files.json"));

export type Check = "typecheck" | "lint";

/**
 * Every file the checks read in the project (node_modules is covered by package-lock.json), relative and sorted: the
 * source folders, and at the top level the configs and every script ESLint lints there (.mocharc.cjs and the like).
 */
export function checkInputs(root = PROJECT_ROOT): string[] {
    const sources = filesUnder(root, SOURCE_FOLDERS, (name) => SOURCE_EXTENSIONS.test(name));
    const topLevel = fs
        .readdirSync(root, { withFileTypes: true })
        .filter((e) => e.isFile() && LINTED_EXTENSIONS.test(e.name))
        .map((e) => e.name);
    const configs = ROOT_FILES.filter((f) => fs.existsSync(path.join(root, f)));
    return [...new Set([...sources, ...topLevel, ...configs])].sort();
}

/**
 * tsconfig.json's program. Not tsc's incremental build: with skipLibCheck the project's own files are all tsc checks,
 * and its build info cost more (hashing every declaration file, emitting each source file's declarations for its
 * signature) than it saved after an edit; the per-file keys of tools/file-closure-keys.ts cost nothing cold.
 */
export function buildProgram(configFile: string): { program: ts.Program; configDiagnostics: ts.Diagnostic[] } {
    const configDiagnostics: ts.Diagnostic[] = [];
    const parsed = ts.getParsedCommandLineOfConfigFile(
        configFile,
        { noEmit: true },
        { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => configDiagnostics.push(d) },
    );
    if (!parsed) throw new Error(`cannot read ${configFile}`);
    // As tsc parses: JSDoc only where it can change a type error (JavaScript files); parsing every comment of the
    // @pulumi declarations for editor tooltips cost about a fifth of the type check.
    const host = ts.createCompilerHost(parsed.options);
    host.jsDocParsingMode = ts.JSDocParsingMode.ParseForTypeErrors;
    const program = ts.createProgram({
        host,
        rootNames: parsed.fileNames,
        options: parsed.options,
        projectReferences: parsed.projectReferences,
        configFileParsingDiagnostics: ts.getConfigFileParsingDiagnostics(parsed),
    });
    return { program, configDiagnostics };
}

/**
 * tsc's diagnostics in tsc's order: configuration, options, global and syntax problems first; type errors only when
 * there are none, and not for a project file whose key (`keys`) `isClean` says passed before: its type errors were
 * none and nothing they depend on changed. `clean`: the key of every project file without type errors (none when the
 * type errors were not looked at).
 */
export function typeErrors(
    program: ts.Program,
    configDiagnostics: readonly ts.Diagnostic[],
    keys: ReadonlyMap<string, string>,
    isClean: (file: string, key: string) => boolean,
    root: string,
): { diagnostics: ts.Diagnostic[]; clean?: Map<string, string>; checked: number } {
    const diagnostics = [
        ...configDiagnostics,
        ...program.getConfigFileParsingDiagnostics(),
        ...program.getOptionsDiagnostics(),
        ...program.getGlobalDiagnostics(),
        ...program.getSyntacticDiagnostics(),
    ];
    if (diagnostics.length > 0) return { diagnostics, checked: 0 };
    const clean = new Map<string, string>();
    let checked = 0;
    for (const sf of program.getSourceFiles()) {
        const file = relativePath(root, sf.fileName);
        // Only the project's files have keys; the dependencies' declarations cost nothing (skipLibCheck).
        const key = keys.get(file);
        if (key !== undefined && isClean(file, key)) {
            clean.set(file, key);
            continue;
        }
        const errors = program.getSemanticDiagnostics(sf);
        diagnostics.push(...errors);
        if (key === undefined) continue;
        checked++;
        if (errors.length === 0) clean.set(file, key);
    }
    return { diagnostics, clean, checked };
}

interface FlatConfig {
    languageOptions?: { parserOptions?: Record<string, unknown> };
    [key: string]: unknown;
}

/** A file name as a glob matching only itself. */
const literalGlob = (file: string) => file.replace(/[*?[\]{}()!+@\\]/g, "\\$&");

/**
 * ESLint over `patterns` in `cwd` with the project's eslint.config.mjs, its typed rules reading `program` where the
 * config has them build their own (projectService), leaving out the files named in `skip` (relative to `cwd`) as if
 * ignored. Every problem, as ESLint's stylish report, and the files linted with none (relative to `cwd`).
 */
export async function lint(
    program: ts.Program,
    cwd = PROJECT_ROOT,
    patterns: readonly string[] = ["."],
    skip: readonly string[] = [],
): Promise<{ problems: number; report: string; ruleIds: string[]; cleanFiles: string[] }> {
    const { ESLint } = await import("eslint");
    const configUrl = pathToFileURL(path.join(PROJECT_ROOT, "eslint.config.mjs")).href;
    const config = ((await import(configUrl)) as { default: FlatConfig[] }).default.map((c) => {
        const parserOptions = c.languageOptions?.parserOptions;
        if (!parserOptions?.["projectService"]) return c;
        const { projectService: _service, tsconfigRootDir: _root, ...rest } = parserOptions;
        return { ...c, languageOptions: { ...c.languageOptions, parserOptions: { ...rest, programs: [program] } } };
    });
    const skipped = skip.length > 0 ? [{ ignores: skip.map(literalGlob) }] : [];
    const eslint = new ESLint({
        cwd,
        overrideConfigFile: true,
        overrideConfig: [...skipped, ...config] as never,
        errorOnUnmatchedPattern: skip.length === 0,
    });
    const results = await eslint.lintFiles([...patterns]);
    const problems = results.reduce((n, r) => n + r.errorCount + r.warningCount, 0);
    const formatter = await eslint.loadFormatter("stylish");
    const ruleIds = results.flatMap((r) => r.messages.map((m) => m.ruleId ?? "(parser)"));
    const cleanFiles = results.filter((r) => r.messages.length === 0).map((r) => relativePath(cwd, r.filePath));
    return { problems, report: await formatter.format(results), ruleIds, cleanFiles };
}

/**
 * ESLint over the tree in `root`, leaving out each file whose key (`keys`) `isClean` says passed before: its problems
 * were none and nothing they depend on changed. `clean`: the key of every file known clean after this run.
 */
export async function lintUnlessClean(
    program: ts.Program,
    root: string,
    keys: ReadonlyMap<string, string>,
    isClean: (file: string, key: string) => boolean,
): Promise<{ problems: number; report: string; clean: Map<string, string>; linted: number }> {
    const lintable = [...keys].filter(([file]) => LINTED_EXTENSIONS.test(file));
    const skip = lintable.filter(([file, k]) => isClean(file, k)).map(([file]) => file);
    const clean = new Map(skip.map((f) => [f, keys.get(f)!]));
    if (skip.length === lintable.length) return { problems: 0, report: "", clean, linted: 0 };
    const { problems, report, cleanFiles } = await lint(program, root, ["."], skip);
    for (const f of cleanFiles) if (keys.has(f)) clean.set(f, keys.get(f)!);
    return { problems, report, clean, linted: lintable.length - skip.length };
}

/**
 * The per-file keys of both checks: a program file's closure key (tools/file-closure-keys.ts), a script ESLint lints
 * outside the program keyed by its own text; both over `env`, a key of every other file the checks read.
 */
export function fileKeys(program: ts.Program, root: string, inputs: readonly string[]): Map<string, string> {
    const programFiles = new Set(
        program
            .getSourceFiles()
            .filter((sf) => isProjectFile(sf.fileName, root))
            .map((sf) => relativePath(root, sf.fileName)),
    );
    const scripts = inputs.filter((f) => SCRIPT_EXTENSIONS.test(f) && !programFiles.has(f));
    const shared = inputs.filter((f) => !programFiles.has(f) && !scripts.includes(f));
    const env = contentKey(
        root,
        [...new Set([...shared, ...ROOT_FILES.filter((f) => inputs.includes(f))])].sort(),
        `typescript ${ts.version}`,
    );
    const keys = fileClosureKeys(program, root, env);
    for (const script of scripts) keys.set(script, contentKey(root, [script], env));
    return keys;
}

async function main(argv: readonly string[]): Promise<number> {
    const { values } = parseOptions(argv, { typecheck: { type: "boolean" }, lint: { type: "boolean" } });
    const wanted: Check[] = values.typecheck || values.lint ? [] : ["typecheck", "lint"];
    if (values.typecheck) wanted.push("typecheck");
    if (values.lint) wanted.push("lint");

    const inputs = checkInputs();
    const key = contentKey(PROJECT_ROOT, inputs, `typescript ${ts.version}`);
    const todo = wanted.filter((c) => !CLEAN_RUNS.isClean(c, key));
    const clean: Partial<Record<Check, string>> = {};
    for (const c of wanted.filter((w) => !todo.includes(w)))
        process.stdout.write(`${c}: clean, nothing it reads changed since its last clean run\n`);
    if (todo.length === 0) return 0;

    let failed = false;
    const started = performance.now();
    const { program, configDiagnostics } = buildProgram(path.join(PROJECT_ROOT, "tsconfig.json"));
    const keys = fileKeys(program, PROJECT_ROOT, inputs);
    if (todo.includes("typecheck")) {
        const {
            diagnostics,
            clean: cleanFiles,
            checked,
        } = typeErrors(program, configDiagnostics, keys, CLEAN_FILES.isCleanFor("typecheck"), PROJECT_ROOT);
        if (cleanFiles) CLEAN_FILES.record("typecheck", cleanFiles);
        if (diagnostics.length > 0) {
            failed = true;
            process.stdout.write(ts.formatDiagnosticsWithColorAndContext(diagnostics, FORMAT_HOST));
            process.stdout.write(`typecheck: ${diagnostics.length} error${diagnostics.length === 1 ? "" : "s"}\n`);
        } else {
            clean.typecheck = key;
            const ms = Math.round(performance.now() - started);
            process.stdout.write(`typecheck: clean (${ms} ms; ${checked} files checked, the others unchanged)\n`);
        }
    }
    if (todo.includes("lint")) {
        const t0 = performance.now();
        const {
            problems,
            report,
            clean: cleanKeys,
            linted,
        } = await lintUnlessClean(program, PROJECT_ROOT, keys, CLEAN_FILES.isCleanFor("lint"));
        CLEAN_FILES.record("lint", cleanKeys);
        if (problems > 0) {
            failed = true;
            process.stdout.write(report);
        } else {
            clean.lint = key;
            const ms = Math.round(performance.now() - t0);
            process.stdout.write(`lint: clean (${ms} ms; ${linted} files linted, the others unchanged)\n`);
        }
    }
    CLEAN_RUNS.record(clean);
    return failed ? 1 : 0;
}

const FORMAT_HOST: ts.FormatDiagnosticsHost = {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => PROJECT_ROOT,
    getNewLine: () => "\n",
};

runAsScript(module, USAGE, main);
