/**
 * Plans shared by every spec process of a test run, and by the next run while nothing a plan depends on changed.
 *
 * A plan is a pure function of the program's files, the stack file, the overrides, the installed packages and
 * Node's version (the mock engine invents every deploy-time value deterministically, and the program reads no
 * clock, no environment and nothing outside the repository). The cache key hashes all of them: the content of every
 * file under the folders the program is built from (PLAN_INPUTS, specs excepted: nothing imports a spec), the
 * stack files, package.json, package-lock.json and this harness. Any change to any of those files gives a new key,
 * so a stale plan can never be read; test/plan-cache.spec.ts proves that every file a plan reads is one the key
 * hashes, and that a plan read back equals the plan computed.
 *
 * Entries live in the clone's cache (tools/cache.ts), under plans/<key>/: a fresh clone starts empty. Writes are
 * atomic (temporary file, then rename), so two spec processes planning the same stack at once both write a whole
 * file. MLOPS_TESTBED_PLAN_CACHE=off turns the cache off.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { CLONE_CACHE, contentKey, filesUnder, writeWhole } from "../tools/cache";
import type { Plan } from "../tools/mock-runtime";
import { PROJECT_ROOT } from "../tools/stack";

/** What a plan is computed from, relative to the project root: folders (every file in them but specs) and files. */
export const PLAN_INPUTS = {
    folders: ["contract", "infra", "components", "monitoring", "pipelines"],
    files: [
        "Pulumi.yaml",
        "package.json",
        "package-lock.json",
        "tsconfig.json",
        "tools/mock-runtime.ts",
        "tools/stack.ts",
        "test/harness.ts",
        "test/plan-cache.ts",
    ],
    /** Stack files, read from the project root (Pulumi.<stack>.yaml). */
    stackFiles: /^Pulumi\..+\.yaml$/,
} as const;

const isSpec = (file: string) => file.endsWith(".spec.ts");

/** The files a plan's key hashes, relative to `root`, sorted. */
export function planInputFiles(root = PROJECT_ROOT): string[] {
    const folders = filesUnder(root, PLAN_INPUTS.folders, (name) => !isSpec(name));
    const files = PLAN_INPUTS.files.filter((f) => fs.existsSync(path.join(root, f)));
    const stacks = fs.readdirSync(root).filter((f) => PLAN_INPUTS.stackFiles.test(f));
    return [...new Set([...folders, ...files, ...stacks])].sort();
}

/** The key of everything a plan depends on but its stack and overrides: file names and contents, and Node's version. */
export function sourceKey(root = PROJECT_ROOT): string {
    return contentKey(root, planInputFiles(root));
}

/**
 * Whether every input file is as old as `since` (ms since the epoch) and they are the files `expected` lists. A plan
 * is stored only when this holds for the start of the process that computed it: then the modules it loaded are the
 * files the key hashed, even if one was saved while the run was starting.
 */
export function inputsUnchangedSince(since: number, expected: readonly string[], root = PROJECT_ROOT): boolean {
    const files = planInputFiles(root);
    return (
        files.length === expected.length &&
        files.every((f, i) => f === expected[i] && fs.statSync(path.join(root, f)).mtimeMs < since)
    );
}

/**
 * JSON of the overrides with `undefined` kept (it removes a key: `{ models: undefined }` must not read the plan of
 * `{}`), object keys sorted so the same overrides always give the same text.
 */
export function overridesText(overrides: Record<string, unknown>): string {
    const norm = (v: unknown): unknown => {
        if (v === undefined) return { "(undefined)": true };
        if (Array.isArray(v)) return v.map(norm);
        if (v && typeof v === "object")
            return Object.fromEntries(
                Object.keys(v)
                    .sort()
                    .map((k) => [k, norm((v as Record<string, unknown>)[k])]),
            );
        return v;
    };
    return JSON.stringify(norm(overrides));
}

/** Where the plans of this clone are kept. */
export const PLAN_CACHE_DIR = path.join(CLONE_CACHE, "plans");
/** Key folders of earlier sources are removed once this old, so the cache holds little more than the current key. */
const STALE_AFTER_MS = 60 * 60 * 1000;

export function planCacheEnabled(): boolean {
    return process.env.MLOPS_TESTBED_PLAN_CACHE !== "off";
}

/** Plans of one project's sources, kept under `dir/<source key>/`. */
export class PlanCache {
    private key: string | undefined;
    private files: readonly string[] = [];
    /**
     * Plans of this process as JSON text, from the moment one is asked for: each read parses its own copy, so no spec
     * can change another's plan, and specs asking for the same plan at once wait for one computation.
     */
    private readonly memo = new Map<string, Promise<string>>();

    constructor(
        readonly dir: string,
        readonly root = PROJECT_ROOT,
    ) {}

    /** The file an entry is kept in (computing the source key on first use). */
    entryFile(stack: string, overrides: Record<string, unknown>): string {
        if (this.key === undefined) {
            this.files = planInputFiles(this.root);
            this.key = sourceKey(this.root);
        }
        const entry = createHash("sha256")
            .update(`${stack}\n${overridesText(overrides)}`)
            .digest("hex")
            .slice(0, 24);
        return path.join(this.dir, this.key, `${stack}-${entry}.json`);
    }

    /** The cached plan of a stack with overrides, or the one `compute` makes (then kept for every later reader). */
    async get(stack: string, overrides: Record<string, unknown>, compute: () => Promise<Plan>): Promise<Plan> {
        const file = this.entryFile(stack, overrides);
        let text = this.memo.get(file);
        if (text === undefined) {
            text = this.load(file, compute);
            this.memo.set(file, text);
            // A plan that failed is not kept: the next reader computes it again and sees its own error.
            text.catch(() => this.memo.delete(file));
        }
        return JSON.parse(await text) as Plan;
    }

    /** An entry's text: read from its file, or computed (and then written for every later reader). */
    private async load(file: string, compute: () => Promise<Plan>): Promise<string> {
        try {
            return fs.readFileSync(file, "utf8");
        } catch {
            const text = JSON.stringify(await compute());
            if (inputsUnchangedSince(performance.timeOrigin, this.files, this.root)) this.store(file, text);
            return text;
        }
    }

    /** Writes an entry, removing the key folders of older sources when it starts a new one. */
    private store(file: string, text: string): void {
        const keyDir = path.dirname(file);
        if (!fs.existsSync(keyDir) && fs.existsSync(this.dir)) this.prune(path.basename(keyDir));
        writeWhole(file, text);
    }

    /** Removes the key folders of older sources. */
    private prune(current: string): void {
        for (const name of fs.readdirSync(this.dir)) {
            if (name === current) continue;
            const full = path.join(this.dir, name);
            try {
                if (Date.now() - fs.statSync(full).mtimeMs > STALE_AFTER_MS)
                    fs.rmSync(full, { recursive: true, force: true });
            } catch {
                // Another process removed it first.
            }
        }
    }
}

const shared = new PlanCache(PLAN_CACHE_DIR);

/** A plan through this clone's plan cache (or computed, when MLOPS_TESTBED_PLAN_CACHE=off). */
export function cachedPlan(
    stack: string,
    overrides: Record<string, unknown>,
    compute: () => Promise<Plan>,
): Promise<Plan> {
    return planCacheEnabled() ? shared.get(stack, overrides, compute) : compute();
}
