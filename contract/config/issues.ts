/** Config namespace of every key this program reads (`mlops-testbed:<key>` in the stack files). */
export const CONFIG_NAMESPACE = "mlops-testbed";

/**
 * What an encrypted config value reads as where it cannot be decrypted (the offline plan and tools that read a
 * stack file): schemas of secret keys accept it in place of a value they cannot see.
 */
export const UNREADABLE_SECRET = "[secret]";

/** One problem in the configuration: the full key, what is wrong, and the value found. */
export interface ConfigIssue {
    readonly key: string;
    readonly message: string;
    readonly value?: unknown;
}

/** Key path in the form users write it: `mlops-testbed:gpuNodePools[0].maxSize`. */
export function keyPath(path: readonly PropertyKey[]): string {
    let out = CONFIG_NAMESPACE;
    path.forEach((p, i) => {
        if (typeof p === "number") out += `[${p}]`;
        else out += i === 0 ? `:${String(p)}` : `.${String(p)}`;
    });
    return out;
}

/**
 * Defensive readers of the raw (unvalidated) config, for cloud rules that must run even when other keys fail
 * the schema: anything of the wrong shape reads as empty, and the schema reports the shape error itself.
 */
export const rawArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
export const rawRecord = (v: unknown): Record<string, unknown> =>
    v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
