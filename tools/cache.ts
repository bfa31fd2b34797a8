/**
 * Where this clone keeps what its checks can reuse between runs: node_modules/.cache/mlops-testbed/ (the usual place
 * for tool caches; node_modules is the clone's own and git ignores it, so a fresh clone starts with none). Each user
 * keys what it keeps by everything its result depends on, so a cache can cost a run time but never change its result.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PROJECT_ROOT } from "./stack";

export const CLONE_CACHE = path.join(PROJECT_ROOT, "node_modules", ".cache", "mlops-testbed");

/**
 * Node's compile cache of this clone (NODE_COMPILE_CACHE: the V8 code of each module, keyed by its file and content),
 * shared by the tools and by every process `npm test` starts.
 */
export const NODE_COMPILE_CACHE_DIR = path.join(CLONE_CACHE, "node-compile");

/**
 * Where this machine keeps what every clone can share, outside any repository: the Go builds (control plane,
 * engine), the steps' Python and local runtime, the study's wheels:
 * `${MLOPS_TESTBED_CACHE:-${XDG_CACHE_HOME:-~/.cache}/mlops-testbed}`.
 */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
    if (env.MLOPS_TESTBED_CACHE) return path.resolve(env.MLOPS_TESTBED_CACHE);
    const xdg = env.XDG_CACHE_HOME || path.join(env.HOME || os.homedir(), ".cache");
    return path.join(xdg, "mlops-testbed");
}

/** Folders never walked for inputs: dependencies, output, and other tools' caches. */
const SKIPPED_DIRS = new Set([
    "node_modules",
    ".git",
    "out",
    "bin",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
]);

/** Files under `folders` of `root` (relative, "/"-separated, sorted) whose name `keep` accepts. */
export function filesUnder(root: string, folders: readonly string[], keep: (name: string) => boolean): string[] {
    const out: string[] = [];
    const walk = (rel: string) => {
        const abs = path.join(root, rel);
        if (!fs.existsSync(abs)) return;
        for (const entry of fs.readdirSync(abs, { withFileTypes: true })) {
            const child = rel ? path.posix.join(rel, entry.name) : entry.name;
            if (entry.isDirectory()) {
                if (!SKIPPED_DIRS.has(entry.name)) walk(child);
            } else if (entry.isFile() && keep(entry.name)) out.push(child);
        }
    };
    for (const folder of folders) walk(folder);
    return [...new Set(out)].sort();
}

/** sha256 over Node's version, `extra`, and each file's name and content (files relative to `root`). */
export function contentKey(root: string, files: readonly string[], extra = ""): string {
    const h = createHash("sha256");
    h.update(`node ${process.version}\n${extra}\n`);
    for (const file of files) {
        h.update(`${file}\n`);
        h.update(fs.readFileSync(path.join(root, file)));
        h.update("\n");
    }
    return h.digest("hex").slice(0, 24);
}

/** Writes a file whole (temporary file, then rename); a cache that cannot be written only costs time. */
export function writeWhole(file: string, text: string): void {
    try {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        const tmp = `${file}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, text);
        fs.renameSync(tmp, file);
    } catch {
        // Read-only or full disk: nothing is kept.
    }
}

/**
 * The keys of the last clean run of each check a tool runs, in one JSON file (`{ check: key }`): a check whose key
 * (contentKey of everything it reads) is the one recorded passed on exactly these inputs and need not run again.
 */
export class CleanRuns {
    constructor(readonly file: string) {}

    /** Every recorded key; none when the file is missing or unreadable. */
    read(): Record<string, string> {
        try {
            return JSON.parse(fs.readFileSync(this.file, "utf8")) as Record<string, string>;
        } catch {
            return {};
        }
    }

    /** Whether `check`'s last clean run had this key. */
    isClean(check: string, key: string): boolean {
        return this.read()[check] === key;
    }

    /** Records clean runs (merged into what is there: other checks' keys stay). */
    record(keys: Readonly<Record<string, string>>): void {
        writeWhole(this.file, `${JSON.stringify({ ...this.read(), ...keys })}\n`);
    }
}

/**
 * Per-file keys of clean checks, in one JSON file (`{ check: { file: key } }`): a file whose key is the one recorded
 * for a check passed that check on exactly what the key hashes (tools/file-closure-keys.ts).
 */
export class CleanFiles {
    constructor(readonly file: string) {}

    /** Every check's recorded keys; none when the file is missing or unreadable. */
    private readAll(): Record<string, Record<string, string>> {
        try {
            return JSON.parse(fs.readFileSync(this.file, "utf8")) as Record<string, Record<string, string>>;
        } catch {
            return {};
        }
    }

    /** Whether a file with this key passed `check` (the keys as recorded when this is called). */
    isCleanFor(check: string): (file: string, key: string) => boolean {
        const recorded = this.readAll()[check] ?? {};
        return (file, key) => recorded[file] === key;
    }

    /** Replaces `check`'s keys by `keys` (files gone or changed drop out); other checks' keys stay. */
    record(check: string, keys: ReadonlyMap<string, string>): void {
        const all = this.readAll();
        all[check] = Object.fromEntries([...keys].sort(([a], [b]) => a.localeCompare(b)));
        writeWhole(this.file, `${JSON.stringify(all)}\n`);
    }
}
