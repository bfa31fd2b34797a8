/**
 * What every tool's command line shares: `--help`/`-h` prints the usage and exits 0 before any work; a bad or
 * unknown argument prints the problem and the usage on stderr and exits 2. Options are parsed by Node's
 * `util.parseArgs` (strict: an unknown flag is an error).
 */
import nodeModule from "node:module";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { NODE_COMPILE_CACHE_DIR } from "./cache";

export class UsageError extends Error {}

/** True when the arguments ask for help (anywhere, as long as before a `--` separator). */
export function wantsHelp(argv: readonly string[]): boolean {
    const end = argv.indexOf("--");
    return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === "--help" || a === "-h");
}

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Strict parse of `argv` against `options`; any problem is a UsageError (unknown flag, missing value, stray argument). */
export function parseOptions<O extends Options>(
    argv: readonly string[],
    options: O,
    allowPositionals = false,
): ReturnType<typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: boolean }>> {
    try {
        return parseArgs({ args: [...argv], options, strict: true, allowPositionals });
    } catch (err) {
        throw new UsageError((err as Error).message.replace(/\. To specify a positional argument.*$/s, ""));
    }
}

/** How a tool's run ended: its exit code, and whether `main` did its work (false: help, or a refused argument). */
export interface ToolOutcome {
    readonly code: number;
    readonly worked: boolean;
}

/**
 * Runs a tool's main: help first (usage on stdout, exit 0), then `main`; a UsageError prints its message and the
 * usage on stderr and exits 2. Other errors propagate to the caller's handler. A UsageError must come before the
 * tool starts anything (a child process, a server): a refused argument ends the process like help (endProcess).
 */
export async function runTool(
    argv: readonly string[],
    usage: string,
    main: (argv: readonly string[]) => Promise<number> | number,
): Promise<ToolOutcome> {
    if (wantsHelp(argv)) {
        process.stdout.write(`${usage.trimEnd()}\n`);
        return { code: 0, worked: false };
    }
    try {
        return { code: await main(argv), worked: true };
    } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        process.stderr.write(`${err.message}\n\n${usage.trimEnd()}\n`);
        return { code: 2, worked: false };
    }
}

/**
 * Ends a tool's process with `code`. After its work, at once: clients and servers the work used may keep Node's event
 * loop alive. After help or a refused argument, when the loop is empty: nothing else runs then, and writes still under
 * way complete, among them tsx's cache of the files it compiled, which an exit at once leaves empty, so that every
 * later start compiled them again (test/tools-help.spec.ts starts each tool twice this way).
 */
export function endProcess({ code, worked }: ToolOutcome): void {
    if (worked) process.exit(code);
    else process.exitCode = code;
}

/**
 * Runs a tool's `main` through `runTool` when the tool's file is the script Node started (`mod` is that file's
 * `module`), and ends with its code (endProcess); an unexpected error prints its stack (after `what`, when given) and
 * exits 1.
 */
export function runAsScript(
    mod: NodeModule,
    usage: string,
    main: (argv: readonly string[]) => Promise<number> | number,
    what = "",
): void {
    if (require.main !== mod) return;
    // The clone's compile cache, as npm test sets it for its checks: the V8 code a tool compiles (the Pulumi SDK, the
    // program) is reused by the next tool, by the processes it starts, and by npm test (the README's first command
    // plans dev, so a fresh clone's first test run starts with the SDK compiled).
    if (!process.env.NODE_COMPILE_CACHE) {
        process.env.NODE_COMPILE_CACHE = NODE_COMPILE_CACHE_DIR;
        nodeModule.enableCompileCache?.(NODE_COMPILE_CACHE_DIR);
    }
    runTool(process.argv.slice(2), usage, main).then(endProcess, (err: unknown) => {
        const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
        process.stderr.write(`${what ? `${what}: ` : ""}${detail}\n`);
        process.exit(1);
    });
}
