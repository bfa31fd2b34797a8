/**
 * Facts of a Helm chart derived from its values.yaml: the tree of value keys (free-form maps marked open), the keys
 * documented only in comments, the Secret keys the comments say the chart reads, and a few defaults the tests use.
 */
import { parse } from "yaml";

/** A value key: a scalar, a free-form value (empty map, null, list, or declared open), or a map of further keys. */
export type KeyNode = "scalar" | "open" | { readonly [key: string]: KeyNode };

export interface ChartFacts {
    readonly chart: string;
    readonly version: string;
    /** What the facts were derived from (upstream file, never committed). */
    readonly derivedFrom: string;
    readonly keys: { readonly [key: string]: KeyNode };
    /** Key paths that appear only in commented-out examples (e.g. `s3.createBuckets`). */
    readonly commentedKeys: readonly string[];
    /** Secret keys the comments say the chart reads, per the key path the comment sits under. */
    readonly documentedSecretKeys: Readonly<Record<string, readonly string[]>>;
    /** Defaults of selected key paths (dot-joined). */
    readonly defaults: Readonly<Record<string, unknown>>;
}

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** The key tree of parsed values; `open` paths (dot-joined) are free-form whatever their default. */
export function keyTree(values: unknown, open: readonly string[] = [], at = ""): { [key: string]: KeyNode } {
    const out: { [key: string]: KeyNode } = {};
    if (!isMap(values)) return out;
    for (const key of Object.keys(values).sort()) {
        const value = values[key];
        const keyPath = at ? `${at}.${key}` : key;
        if (open.includes(keyPath) || value === null || Array.isArray(value)) out[key] = "open";
        else if (isMap(value)) out[key] = Object.keys(value).length === 0 ? "open" : keyTree(value, open, keyPath);
        else out[key] = "scalar";
    }
    return out;
}

const KEY_LINE = /^( *)([A-Za-z_][\w.-]*|"[^"]+"):(?:\s|$)/;
const COMMENTED_KEY_LINE = /^( *)#( ?)( *)([a-z_][\w-]*):(?:\s|$)/;

/**
 * Key paths of commented-out examples, placed by indentation under the real keys around them: `  # createBuckets:`
 * under `s3:` is `s3.createBuckets`. In a run of comment lines, keys indented deeper than the run's first key are
 * that example's content and do not count; keys that exist for real, and capitalised prose ("Note:"), are left out.
 */
export function commentedKeys(text: string, tree: { readonly [key: string]: KeyNode }): string[] {
    const found = new Set<string>();
    const stack: { indent: number; key: string }[] = [];
    let blockIndent: number | undefined;
    for (const line of text.split("\n")) {
        const real = KEY_LINE.exec(line);
        if (real) {
            const indent = real[1].length;
            while (stack.length > 0 && stack[stack.length - 1].indent >= indent) stack.pop();
            stack.push({ indent, key: real[2].replace(/^"|"$/g, "") });
            blockIndent = undefined;
            continue;
        }
        if (!line.trimStart().startsWith("#")) {
            blockIndent = undefined;
            continue;
        }
        const commented = COMMENTED_KEY_LINE.exec(line);
        if (!commented) continue;
        const indent = commented[1].length + commented[3].length;
        if (blockIndent !== undefined && indent > blockIndent) continue;
        blockIndent = indent;
        const parents = stack.filter((s) => s.indent < indent).map((s) => s.key);
        const keyPath = [...parents, commented[4]].join(".");
        if (!hasKey(tree, keyPath)) found.add(keyPath);
    }
    return [...found].sort();
}

/** Secret keys named in comments ("should have a secret key called <name>"), per the key path above the comment. */
export function documentedSecretKeys(text: string): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    const stack: { indent: number; key: string }[] = [];
    for (const line of text.split("\n")) {
        const real = KEY_LINE.exec(line);
        if (real) {
            const indent = real[1].length;
            while (stack.length > 0 && stack[stack.length - 1].indent >= indent) stack.pop();
            stack.push({ indent, key: real[2] });
            continue;
        }
        const m = /^( *)#.*secret key called (\w+)/i.exec(line);
        if (!m) continue;
        const parents = stack
            .filter((s) => s.indent < m[1].length)
            .map((s) => s.key)
            .join(".");
        out[parents] = [...new Set([...(out[parents] ?? []), m[2]])].sort();
    }
    return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

export function hasKey(tree: { readonly [key: string]: KeyNode }, keyPath: string): boolean {
    let node: KeyNode = tree;
    for (const part of keyPath.split(".")) {
        if (typeof node !== "object" || !(part in node)) return false;
        node = node[part];
    }
    return true;
}

function valueAt(values: unknown, keyPath: string): unknown {
    let node = values;
    for (const part of keyPath.split(".")) {
        if (!isMap(node) || !(part in node)) throw new Error(`values have no key ${keyPath}`);
        node = node[part];
    }
    return node;
}

/** Facts of one chart version from the text of its values.yaml. */
export function chartFacts(
    chart: string,
    version: string,
    valuesText: string,
    options: { open?: readonly string[]; defaults?: readonly string[]; derivedFrom: string },
): ChartFacts {
    const values = parse(valuesText) as unknown;
    const keys = keyTree(values, options.open ?? []);
    return {
        chart,
        version,
        derivedFrom: options.derivedFrom,
        keys,
        commentedKeys: commentedKeys(valuesText, keys),
        documentedSecretKeys: documentedSecretKeys(valuesText),
        defaults: Object.fromEntries((options.defaults ?? []).map((p) => [p, valueAt(values, p)])),
    };
}
