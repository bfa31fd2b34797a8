/**
 * The TypeScript checks in one program: `npm run typecheck` (tsconfig.json's type check, as `tsc --noEmit -p .`) and
 * ESLint over the tree (eslint.config.mjs, as `eslint .`), whose typed rules read the same TypeScript program
 * instead of building a second one (building it, for the @pulumi/* declarations, is most of either check's time).
 *
 *   tsx tools/ts-checks.ts [--typecheck] [--lint]     (neither: both)
 *
 * What it keeps between runs, in the clone's cache (tools/cache.ts): the key of the last clean run, a hash of every
 * file either check reads (sources, JSON, the configs, package-lock.json, Node's version): the same key means the same
 * result, so that run is not repeated. Exit codes: 0 clean, 1 problems, 2 bad arguments.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";
import { CLONE_CACHE, CleanRuns, contentKey, filesUnder } from "./cache";
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

const CLEAN_RUNS = new CleanRuns(path.join(CLONE_CACHE, "ts-checks.json"));

type Check = "typecheck" | "lint";

/** Every file the checks read in the project (node_modules is covered by package-lock.json), relative and sorted. */
export function checkInputs(root = PROJECT_ROOT): string[] {
    const sources = filesUnder(root, SOURCE_FOLDERS, (name) => SOURCE_EXTENSIONS.test(name));
    return [...sources, ...ROOT_FILES.filter((f) => fs.existsSync(path.join(root, f)))].sort();
}

/**
 * tsconfig.json's program with tsc's diagnostics in tsc's order. Not incremental: with skipLibCheck the project's own
 * files are all tsc checks, and tsc's build info cost more (hashing every declaration file, emitting each source
 * file's declarations for its signature) than it saved after an edit.
 */
function typecheck(): { program: ts.Program; diagnostics: ts.Diagnostic[]; host: ts.FormatDiagnosticsHost } {
    const configFile = path.join(PROJECT_ROOT, "tsconfig.json");
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
    // As tsc reports them: configuration, options, global and syntax problems first; types only when there are none.
    const diagnostics = [
        ...configDiagnostics,
        ...program.getConfigFileParsingDiagnostics(),
        ...program.getOptionsDiagnostics(),
        ...program.getGlobalDiagnostics(),
        ...program.getSyntacticDiagnostics(),
    ];
    if (diagnostics.length === 0) diagnostics.push(...program.getSemanticDiagnostics());
    const formatHost: ts.FormatDiagnosticsHost = {
        getCanonicalFileName: (f) => f,
        getCurrentDirectory: () => PROJECT_ROOT,
        getNewLine: () => "\n",
    };
    return { program, diagnostics, host: formatHost };
}

interface FlatConfig {
    languageOptions?: { parserOptions?: Record<string, unknown> };
    [key: string]: unknown;
}

/**
 * ESLint over `patterns` in `cwd` with the project's eslint.config.mjs, its typed rules reading `program` where the
 * config has them build their own (projectService). Every problem, as ESLint's stylish report.
 */
export async function lint(
    program: ts.Program,
    cwd = PROJECT_ROOT,
    patterns: readonly string[] = ["."],
): Promise<{ problems: number; report: string; ruleIds: string[] }> {
    const { ESLint } = await import("eslint");
    const configUrl = pathToFileURL(path.join(PROJECT_ROOT, "eslint.config.mjs")).href;
    const config = ((await import(configUrl)) as { default: FlatConfig[] }).default.map((c) => {
        const parserOptions = c.languageOptions?.parserOptions;
        if (!parserOptions?.["projectService"]) return c;
        const { projectService: _service, tsconfigRootDir: _root, ...rest } = parserOptions;
        return { ...c, languageOptions: { ...c.languageOptions, parserOptions: { ...rest, programs: [program] } } };
    });
    const eslint = new ESLint({ cwd, overrideConfigFile: true, overrideConfig: config as never });
    const results = await eslint.lintFiles([...patterns]);
    const problems = results.reduce((n, r) => n + r.errorCount + r.warningCount, 0);
    const formatter = await eslint.loadFormatter("stylish");
    const ruleIds = results.flatMap((r) => r.messages.map((m) => m.ruleId ?? "(parser)"));
    return { problems, report: await formatter.format(results), ruleIds };
}

async function main(argv: readonly string[]): Promise<number> {
    const { values } = parseOptions(argv, { typecheck: { type: "boolean" }, lint: { type: "boolean" } });
    const wanted: Check[] = values.typecheck || values.lint ? [] : ["typecheck", "lint"];
    if (values.typecheck) wanted.push("typecheck");
    if (values.lint) wanted.push("lint");

    const key = contentKey(PROJECT_ROOT, checkInputs(), `typescript ${ts.version}`);
    const todo = wanted.filter((c) => !CLEAN_RUNS.isClean(c, key));
    const clean: Partial<Record<Check, string>> = {};
    for (const c of wanted.filter((w) => !todo.includes(w)))
        process.stdout.write(`${c}: clean, nothing it reads changed since its last clean run\n`);
    if (todo.length === 0) return 0;

    let failed = false;
    const started = performance.now();
    const { program, diagnostics, host } = typecheck();
    if (todo.includes("typecheck")) {
        if (diagnostics.length > 0) {
            failed = true;
            process.stdout.write(ts.formatDiagnosticsWithColorAndContext(diagnostics, host));
            process.stdout.write(`typecheck: ${diagnostics.length} error${diagnostics.length === 1 ? "" : "s"}\n`);
        } else {
            clean.typecheck = key;
            process.stdout.write(`typecheck: clean (${Math.round(performance.now() - started)} ms)\n`);
        }
    }
    if (todo.includes("lint")) {
        const t0 = performance.now();
        const { problems, report } = await lint(program);
        if (problems > 0) {
            failed = true;
            process.stdout.write(report);
        } else {
            clean.lint = key;
            process.stdout.write(`lint: clean (${Math.round(performance.now() - t0)} ms)\n`);
        }
    }
    CLEAN_RUNS.record(clean);
    return failed ? 1 : 0;
}

runAsScript(module, USAGE, main);
