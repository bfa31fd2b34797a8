/** Reads Pulumi.yaml and Pulumi.<stack>.yaml the way the Pulumi CLI hands config to a program. */
import * as fs from "node:fs";
import * as path from "node:path";

export const PROJECT_ROOT = path.resolve(__dirname, "..");

/**
 * The yaml package, loaded on first use: every tool imports this module at start, and `--help` or a refused flag
 * should not pay for loading it (about 0.1 s of CPU per process under tsx). The tools that read or write YAML use this.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const yaml = (): typeof import("yaml") => require("yaml");

const parse = (text: string): unknown => yaml().parse(text);

export interface StackConfig {
    project: string;
    stack: string;
    /** Full keys to string values; structured values are JSON, as the Pulumi CLI passes them. */
    config: Record<string, string>;
    secretKeys: string[];
}

export function projectName(root = PROJECT_ROOT): string {
    const doc = parse(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as { name?: string };
    if (!doc?.name) throw new Error("Pulumi.yaml has no name");
    return doc.name;
}

/** Stacks that have a Pulumi.<stack>.yaml file in the project root. */
export function listStacks(root = PROJECT_ROOT): string[] {
    return fs
        .readdirSync(root)
        .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined)
        .sort();
}

/** Turns a parsed config map into Pulumi's string form; `{ secure: ... }` values become secret keys. */
export function toPulumiConfig(values: Record<string, unknown>): {
    config: Record<string, string>;
    secretKeys: string[];
} {
    const config: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [key, value] of Object.entries(values)) {
        if (
            value &&
            typeof value === "object" &&
            !Array.isArray(value) &&
            "secure" in value &&
            Object.keys(value).length === 1
        ) {
            // Encrypted with the stack's key: unreadable offline, so the plan sees a placeholder secret.
            config[key] = "[secret]";
            secretKeys.push(key);
        } else {
            config[key] = typeof value === "string" ? value : JSON.stringify(value);
        }
    }
    return { config, secretKeys };
}

/**
 * Loads a stack's config. `overrides` replaces whole keys (short names in the mlops-testbed namespace or full
 * "ns:key" names); a value of undefined removes the key.
 */
export function loadStack(stack: string, overrides: Record<string, unknown> = {}, root = PROJECT_ROOT): StackConfig {
    const file = path.join(root, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(file)) {
        throw new Error(`no stack file ${path.basename(file)}; stacks here: ${listStacks(root).join(", ")}`);
    }
    const project = projectName(root);
    const doc = (parse(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
    const values: Record<string, unknown> = { ...(doc.config ?? {}) };
    for (const [key, value] of Object.entries(overrides)) {
        const full = key.includes(":") ? key : `${project}:${key}`;
        if (value === undefined) delete values[full];
        else values[full] = value;
    }
    return { project, stack, ...toPulumiConfig(values) };
}
