/**
 * Runs the policy pack without the Pulumi CLI: every resource of an offline plan (tools/mock-runtime.ts) is handed
 * to each policy's validateResource, and the whole plan to each validateStack, with the arguments CrossGuard
 * builds (type, name, URN, properties, options, provider, parent and dependencies, config, notApplicable).
 * `npm run policy` and the tests use it; `pulumi preview --policy-pack policy` runs the same policies for real.
 *
 * Differences from a real preview, by construction of the offline plan: properties are the program's inputs in
 * both phases (CrossGuard's stack phase sees outputs), secrets appear as "[secret]" and values the cloud
 * assigns as invented placeholders, and components the engine would expand (the EKS cluster, Helm v4 charts)
 * appear with the program's inputs and no children.
 */
import type {
    EnforcementLevel,
    Policies,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import { POLICIES } from "./policies";
import type { Json } from "../contract/json";

/** A resource as the engine describes it to a policy pack. */
export interface AnalyzedResource {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    /** URN of the parent, if any. */
    readonly parent?: string;
    /** Inputs (validateResource) and, offline, also what validateStack sees. */
    readonly props: Record<string, Json>;
    readonly protect: boolean;
    readonly ignoreChanges: readonly string[];
    readonly dependencies: readonly string[];
    readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
    /** Provider reference `<urn>::<id>`, for custom resources. */
    readonly provider?: string;
}

export interface Violation {
    readonly policy: string;
    readonly urn: string;
    readonly message: string;
}

export interface PolicyRun {
    readonly violations: Violation[];
    /** Policies that declared themselves not applicable to a resource (or to the stack, urn ""). */
    readonly notApplicable: { policy: string; urn: string; reason: string }[];
}

/** Per-policy config as `--policy-pack-config` gives it: an enforcement level and the policy's own properties. */
export type PackConfig = Readonly<
    Record<string, Readonly<Record<string, unknown>> & { enforcementLevel?: EnforcementLevel }>
>;

export const STACK_RESOURCE_TYPE = "pulumi:pulumi:Stack";

/**
 * What the pack reads of an offline plan (tools/mock-runtime.ts's Plan has these fields and more): declared here so
 * the pack depends on the plan's shape, not on the tool that makes it.
 */
export interface OfflinePlan {
    readonly project: string;
    readonly stack: string;
    readonly outputs: Record<string, unknown>;
    readonly resources: readonly {
        readonly urn: string;
        readonly type: string;
        readonly name: string;
        readonly parent: string | null;
        readonly inputs: Record<string, unknown>;
        readonly protect: boolean;
        readonly ignoreChanges: string[];
        readonly dependsOn: string[];
        readonly propertyDependencies: Record<string, string[]>;
        readonly provider: string | null;
    }[];
}

/**
 * The resources of an offline plan as the engine would send them, plus the root stack resource whose properties
 * are the stack outputs (secret outputs as "[secret]"). Top-level resources are parented to it, as in a stack.
 */
export function analyzedResources(plan: OfflinePlan): AnalyzedResource[] {
    const stackName = `${plan.project}-${plan.stack}`;
    const stackUrn = `urn:pulumi:${plan.stack}::${plan.project}::${STACK_RESOURCE_TYPE}::${stackName}`;
    const root: AnalyzedResource = {
        urn: stackUrn,
        type: STACK_RESOURCE_TYPE,
        name: stackName,
        props: structuredClone(plan.outputs) as Record<string, Json>,
        protect: false,
        ignoreChanges: [],
        dependencies: [],
        propertyDependencies: {},
    };
    return [
        root,
        ...plan.resources.map((r): AnalyzedResource => ({
            urn: r.urn,
            type: r.type,
            name: r.name,
            parent: r.parent ?? stackUrn,
            props: structuredClone(r.inputs) as Record<string, Json>,
            protect: r.protect,
            ignoreChanges: r.ignoreChanges,
            dependencies: r.dependsOn,
            propertyDependencies: r.propertyDependencies,
            provider: r.provider ?? undefined,
        })),
    ];
}

class NotApplicable extends Error {
    constructor(readonly reason: string) {
        super(reason);
    }
}

const notApplicable = (reason?: string): never => {
    throw new NotApplicable(reason ?? "");
};

function options(r: AnalyzedResource): PolicyResourceOptions {
    return {
        protect: r.protect,
        ignoreChanges: [...r.ignoreChanges],
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: [],
        ...(r.parent ? { parent: r.parent } : {}),
    };
}

/** What `isType` compares: the type token a resource class carries (as @pulumi/policy reads it). */
const isTypeFn = (type: string) => (resourceClass: unknown) =>
    (resourceClass as { __pulumiType?: string }).__pulumiType === type;

function providerOf(
    r: AnalyzedResource,
    byUrn: ReadonlyMap<string, AnalyzedResource>,
): PolicyProviderResource | undefined {
    if (!r.provider) return undefined;
    const urn = r.provider.slice(0, r.provider.lastIndexOf("::"));
    const p = byUrn.get(urn);
    return p ? { type: p.type, props: p.props, urn: p.urn, name: p.name } : undefined;
}

const isResourcePolicy = (p: Policies[number]): p is ResourceValidationPolicy =>
    "validateResource" in p && p.validateResource !== undefined;
const isStackPolicy = (p: Policies[number]): p is StackValidationPolicy =>
    "validateStack" in p && typeof (p as StackValidationPolicy).validateStack === "function";

/** CrossGuard's view of the whole stack: resources linked to their parents and dependencies. */
function policyResources(resources: readonly AnalyzedResource[]): PolicyResource[] {
    const out = new Map<string, PolicyResource>();
    for (const r of resources) {
        const isType = isTypeFn(r.type);
        out.set(r.urn, {
            type: r.type,
            props: r.props,
            urn: r.urn,
            name: r.name,
            opts: options(r),
            dependencies: [],
            propertyDependencies: {},
            isType,
            asType: ((cls: unknown) => (isType(cls) ? r.props : undefined)) as PolicyResource["asType"],
        });
    }
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    for (const r of resources) {
        const pr = out.get(r.urn)!;
        const parent = r.parent ? out.get(r.parent) : undefined;
        if (parent) pr.parent = parent;
        pr.dependencies = r.dependencies.map((d) => out.get(d)).filter((d): d is PolicyResource => d !== undefined);
        for (const [k, deps] of Object.entries(r.propertyDependencies)) {
            pr.propertyDependencies[k] = deps
                .map((d) => out.get(d))
                .filter((d): d is PolicyResource => d !== undefined);
        }
        const provider = providerOf(r, byUrn);
        if (provider) pr.provider = provider;
    }
    return [...out.values()];
}

/**
 * Runs the policies over the resources the way `pulumi preview --policy-pack` would: each resource through every
 * resource policy, then the whole set through every stack policy. Policies disabled in `config` are skipped.
 * An exception from a policy propagates (a real preview would fail with it too).
 */
export async function runPolicies(
    resources: readonly AnalyzedResource[],
    policies: Policies = POLICIES,
    config: PackConfig = {},
): Promise<PolicyRun> {
    const violations: Violation[] = [];
    const skipped: PolicyRun["notApplicable"] = [];
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    let stackView: PolicyResource[] | undefined;
    for (const p of policies) {
        const { enforcementLevel, ...policyConfig } = config[p.name] ?? {};
        if ((enforcementLevel ?? p.enforcementLevel) === "disabled") continue;
        const getConfig = <T extends object>() => structuredClone(policyConfig) as T;
        if (isResourcePolicy(p)) {
            const validations = Array.isArray(p.validateResource) ? p.validateResource : [p.validateResource!];
            for (const r of resources) {
                const args: ResourceValidationArgs = {
                    type: r.type,
                    props: r.props,
                    urn: r.urn,
                    name: r.name,
                    opts: options(r),
                    stackTags: new Map(),
                    isType: isTypeFn(r.type),
                    asType: ((cls: unknown) =>
                        isTypeFn(r.type)(cls) ? r.props : undefined) as ResourceValidationArgs["asType"],
                    getConfig,
                    notApplicable,
                };
                const provider = providerOf(r, byUrn);
                if (provider) args.provider = provider;
                for (const validate of validations) {
                    try {
                        await validate(args, (message) => violations.push({ policy: p.name, urn: r.urn, message }));
                    } catch (err) {
                        if (!(err instanceof NotApplicable)) throw err;
                        skipped.push({ policy: p.name, urn: r.urn, reason: err.reason });
                    }
                }
            }
        }
        if (isStackPolicy(p)) {
            stackView ??= policyResources(resources);
            const args: StackValidationArgs = { resources: stackView, stackTags: new Map(), getConfig, notApplicable };
            try {
                await p.validateStack(args, (message, urn) =>
                    violations.push({ policy: p.name, urn: urn ?? "", message }),
                );
            } catch (err) {
                if (!(err instanceof NotApplicable)) throw err;
                skipped.push({ policy: p.name, urn: "", reason: err.reason });
            }
        }
    }
    return { violations, notApplicable: skipped };
}

/** Runs the pack over an offline plan. */
export function checkPlan(
    plan: OfflinePlan,
    policies: Policies = POLICIES,
    config: PackConfig = {},
): Promise<PolicyRun> {
    return runPolicies(analyzedResources(plan), policies, config);
}

/** One line per violation: `[policy] message (urn)`. */
export function formatViolations(violations: readonly Violation[]): string {
    return violations.map((v) => `[${v.policy}] ${v.message}${v.urn ? ` (${v.urn})` : ""}`).join("\n");
}
