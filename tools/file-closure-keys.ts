/**
 * Per-file keys for the TypeScript checks: what a project file's type errors and lint problems can depend on is its
 * own text, the text of every project file it imports (directly or through others, type-only and `import("…")` types
 * included), the project files that declare globals or augment modules (they reach every file), and what is outside
 * the project (the dependencies, the compiler and its options: `env`). A file whose key is that of a clean check is
 * clean again; an edit to one file changes the keys of the files that import it and no others.
 */
import { createHash } from "node:crypto";
import * as path from "node:path";
import ts from "typescript";

/** A project file's text and what it imports ("/"-separated, relative to the root), as the program resolved it. */
interface ProjectFile {
    readonly textHash: string;
    readonly imports: readonly string[];
    /** Declares globals (a script, not a module) or augments a module: its declarations reach every file. */
    readonly reachesEveryFile: boolean;
}

const sha = (text: string) => createHash("sha256").update(text).digest("hex");

/** Whether `fileName` is one of the project's own files (under `root`, not a dependency). */
export function isProjectFile(fileName: string, root: string): boolean {
    const rel = path.relative(root, fileName);
    return !rel.startsWith("..") && !path.isAbsolute(rel) && !rel.split(path.sep).includes("node_modules");
}

/** `fileName` relative to `root`, "/"-separated: how the checks' keys and reports name a file. */
export const relativePath = (root: string, fileName: string) => path.relative(root, fileName).split(path.sep).join("/");

/** A global augmentation (`declare global`) or a module augmentation (`declare module "…"` in a module). */
const AUGMENTS = /\bdeclare\s+(global\b|module\s+["'])/;

type ForEachResolvedModule = (
    callback: (resolution: ts.ResolvedModuleWithFailedLookupLocations) => void,
    file: ts.SourceFile,
) => void;

/**
 * The program's own resolutions of each import of a file (every kind: import and export declarations, `import()`,
 * `require`, import types). TypeScript keeps them on the program without a public accessor; typescript is pinned,
 * and a release without it fails here rather than keying files on less than they import.
 */
function resolvedModules(program: ts.Program): ForEachResolvedModule {
    const forEach = (program as unknown as { forEachResolvedModule?: ForEachResolvedModule }).forEachResolvedModule;
    if (typeof forEach !== "function")
        throw new Error(`typescript ${ts.version}: Program.forEachResolvedModule is gone; update file-closure-keys.ts`);
    return forEach.bind(program);
}

function projectFiles(program: ts.Program, root: string): Map<string, ProjectFile> {
    const files = new Map<string, ProjectFile>();
    const forEachResolvedModule = resolvedModules(program);
    for (const sf of program.getSourceFiles()) {
        if (!isProjectFile(sf.fileName, root)) continue;
        const imports = new Set<string>();
        forEachResolvedModule((resolution) => {
            const target = resolution.resolvedModule?.resolvedFileName;
            if (target && isProjectFile(target, root)) imports.add(relativePath(root, target));
        }, sf);
        for (const ref of sf.referencedFiles) {
            const target = path.resolve(path.dirname(sf.fileName), ref.fileName);
            if (isProjectFile(target, root)) imports.add(relativePath(root, target));
        }
        const isJson = sf.fileName.endsWith(".json");
        files.set(relativePath(root, sf.fileName), {
            textHash: sha(sf.text),
            imports: [...imports].sort(),
            reachesEveryFile: !isJson && (!ts.isExternalModule(sf) || AUGMENTS.test(sf.text)),
        });
    }
    return files;
}

/**
 * The key of every project file of `program` (relative path → key): a hash of `env` and the name and text of each
 * file in its closure (itself, what it imports transitively, and every file that reaches every file). The texts are
 * those the program read, so a key names exactly what was checked.
 */
export function fileClosureKeys(program: ts.Program, root: string, env: string): Map<string, string> {
    const files = projectFiles(program, root);
    const everywhere = [...files].filter(([, f]) => f.reachesEveryFile).map(([rel]) => rel);
    const keys = new Map<string, string>();
    for (const file of files.keys()) {
        const closure = new Set<string>();
        const pending = [file, ...everywhere];
        while (pending.length > 0) {
            const next = pending.pop()!;
            if (closure.has(next)) continue;
            closure.add(next);
            pending.push(...(files.get(next)?.imports ?? []));
        }
        const h = createHash("sha256").update(`${env}\n${file}\n`);
        for (const rel of [...closure].sort()) h.update(`${rel}\0${files.get(rel)!.textHash}\n`);
        keys.set(file, h.digest("hex").slice(0, 32));
    }
    return keys;
}
