/**
 * Plans a stack's platform and lets a test use it the way the cluster layer will (bind identities, create
 * Kubernetes objects with its provider and scheduling) before the real cluster layer exists.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Platform } from "../contract/platform";
import { loadConfig } from "../infra/config";
import { stackOutputs } from "../infra/outputs";
import { platformEntry } from "../infra/platforms";
import { runProgram, type Plan } from "../tools/mock-runtime";
import { loadStack } from "../tools/stack";

export async function planPlatform(
    stack: string,
    overrides: Record<string, unknown>,
    use: (platform: Platform) => void,
): Promise<{ plan: Plan; platform: Platform }> {
    let platform: Platform | undefined;
    const program = async () => {
        const config = loadConfig();
        const built = platformEntry(config).create({ project: pulumi.getProject(), stack: pulumi.getStack() });
        platform = built;
        use(built);
        return stackOutputs(built) as unknown as Record<string, unknown>;
    };
    const plan = await runProgram(program, loadStack(stack, overrides));
    return { plan, platform: platform! };
}

/** Resolves an Output as the mock engine saw it. */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply((v) => resolve(v)));
}
