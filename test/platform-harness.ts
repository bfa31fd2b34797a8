/**
 * Plans a stack's platform and lets a test use it the way the cluster layer will (bind identities, create
 * Kubernetes objects with its provider and scheduling) before the real cluster layer exists.
 */
import * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import type { Platform } from "../components/platform";
import { loadConfig } from "../infra/config";
import { stackOutputs } from "../infra/outputs";
import { PLATFORMS } from "../infra/program";
import { runProgram, type Plan } from "../tools/mock-runtime";
import { PROJECT_ROOT, loadStack } from "../tools/stack";

export async function planPlatform(
    stack: string,
    overrides: Record<string, unknown>,
    use: (platform: Platform) => void,
): Promise<{ plan: Plan; platform: Platform }> {
    let platform: Platform | undefined;
    const program = async () => {
        const config = loadConfig();
        platform = PLATFORMS[config.cloud]({ config, project: pulumi.getProject(), stack: pulumi.getStack() });
        use(platform);
        return stackOutputs(platform) as unknown as Record<string, unknown>;
    };
    const plan = await runProgram(program, loadStack(stack, overrides));
    return { plan, platform: platform! };
}

/** Resolves an Output as the mock engine saw it. */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply((v) => resolve(v)));
}

/** The pinned chart's values.yaml from ../shared/reference/charts/<dir>/. */
export function referenceValues(dir: string): { values: Record<string, unknown>; text: string } {
    const file = path.resolve(PROJECT_ROOT, "..", "shared", "reference", "charts", dir, "values.yaml");
    const text = fs.readFileSync(file, "utf8");
    return { values: parse(text) as Record<string, unknown>, text };
}

/**
 * Dotted paths of every value we set that the reference values.yaml does not have. Arrays are leaves (their
 * items are free-form in charts), and an empty map in the reference (e.g. `podLabels: {}`) is open.
 */
export function unknownHelmKeys(set: unknown, reference: unknown, prefix = ""): string[] {
    if (set === null || typeof set !== "object" || Array.isArray(set)) return [];
    if (reference === null || typeof reference !== "object" || Array.isArray(reference)) return [];
    if (Object.keys(reference).length === 0) return [];
    const out: string[] = [];
    for (const [k, v] of Object.entries(set as Record<string, unknown>)) {
        const p = prefix ? `${prefix}.${k}` : k;
        if (!(k in (reference as Record<string, unknown>))) out.push(p);
        else out.push(...unknownHelmKeys(v, (reference as Record<string, unknown>)[k], p));
    }
    return out;
}
