/**
 * Test helpers in the style of pulumi-awsx's vpc.test.ts: plan a stack under the recording mocks (unmocked
 * invokes throw), then find what was created by type and name.
 */
import * as assert from "node:assert/strict";
import { ConfigError, formatIssues, type ConfigIssue } from "../infra/config";
import { program } from "../infra/program";
import { runProgram, type Plan, type PlannedResource } from "../tools/mock-runtime";
import { loadStack } from "../tools/stack";
import type { Json } from "./json";
import { cachedPlan } from "./plan-cache";

/**
 * Plans a stack file with optional whole-key overrides (short keys are in the mlops-testbed namespace). The plan comes
 * from the run's plan cache (test/plan-cache.ts) when the same sources planned it before; each call gets its own copy.
 * `revealSecrets` also records each resource's inputs with secrets in the clear (`revealedInputs`); such a plan is
 * never cached.
 */
export async function planStack(
    stack: string,
    overrides: Record<string, unknown> = {},
    options: { revealSecrets?: boolean } = {},
): Promise<Plan> {
    const run = () =>
        runProgram(program as unknown as () => Promise<Record<string, unknown>>, {
            ...loadStack(stack, overrides),
            ...options,
        });
    return options.revealSecrets ? run() : cachedPlan(stack, overrides, run);
}

/** Plans a stack expecting a ConfigError; returns its issues and asserts nothing was registered. */
export async function planConfigIssues(stack: string, overrides: Record<string, unknown>): Promise<ConfigIssue[]> {
    const s = loadStack(stack, overrides);
    let plan: Plan;
    try {
        plan = await runProgram(program as unknown as () => Promise<Record<string, unknown>>, s);
    } catch (err) {
        if (err instanceof ConfigError) return [...err.issues];
        throw err;
    }
    assert.fail(`expected a ConfigError, but the plan registered ${plan.resources.length} resources`);
}

export function resourcesOfType(plan: Plan, type: string): PlannedResource[] {
    return plan.resources.filter((r) => r.type === type);
}

export function findResource(plan: Plan, type: string, name: string): PlannedResource {
    const found = plan.resources.find((r) => r.type === type && r.name === name);
    if (!found) {
        const same = resourcesOfType(plan, type).map((r) => r.name);
        assert.fail(`no ${type} named ${name}; of that type: ${same.join(", ") || "none"}`);
    }
    return found;
}

/** Children (direct or not) of a resource, by URN. */
export function descendantsOf(plan: Plan, urn: string): PlannedResource[] {
    const out: PlannedResource[] = [];
    const queue = [urn];
    while (queue.length > 0) {
        const cur = queue.shift()!;
        for (const r of plan.resources) {
            if (r.parent === cur) {
                out.push(r);
                queue.push(r.urn);
            }
        }
    }
    return out;
}

/** Parses a JSON string input (IAM policies, bucket policies), failing clearly when it is not JSON. */
export function jsonInput<T = Json>(resource: PlannedResource, key: string): T {
    const raw = resource.inputs[key];
    assert.equal(typeof raw, "string", `${resource.name}.${key} should be a JSON string`);
    return JSON.parse(raw as string) as T;
}

/** The issue for a config key (and, if given, whose message matches); fails listing every issue otherwise. */
export function issueAt(issues: readonly ConfigIssue[], key: string, message?: RegExp): ConfigIssue {
    const found = issues.find((i) => i.key === key && (!message || message.test(i.message)));
    assert.ok(found, `expected an issue for ${key}${message ? `: ${message}` : ""}; got:\n${formatIssues(issues)}`);
    return found;
}
