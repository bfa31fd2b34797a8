/**
 * Plans a stack's platform and lets a test use it the way the cluster layer will (bind identities, create
 * Kubernetes objects with its provider and scheduling) before the real cluster layer exists.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Platform } from "../contract/platform";
import { loadConfig } from "../infra/config";
import { stackOutputs } from "../infra/outputs";
import { PLATFORMS } from "../infra/program";
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
