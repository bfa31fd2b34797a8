/**
 * The part of @pulumi/random 4.21.2's schema the stand-in provider implements: the two resources the program uses,
 * every input and output property of each with upstream's type, required inputs and secret outputs. Upstream's
 * schema marks no `replaceOnChanges`; the terraform provider behind it replaces the resource when any input changes
 * (every attribute has a RequiresReplace plan modifier), so the stand-in's diff replaces on every input change.
 * `random-provider.spec.ts` checks these tables against the SDK's TypeScript types in node_modules.
 */

/** Upstream schema types of the properties (the SDK maps integer to number, object to a string map). */
export type SchemaType = "integer" | "boolean" | "string" | "object";

/** Inputs shared by RandomPassword and RandomString, with upstream's types. */
export const RANDOM_INPUTS = {
    keepers: "object",
    length: "integer",
    lower: "boolean",
    minLower: "integer",
    minNumeric: "integer",
    minSpecial: "integer",
    minUpper: "integer",
    number: "boolean",
    numeric: "boolean",
    overrideSpecial: "string",
    special: "boolean",
    upper: "boolean",
} as const satisfies Record<string, SchemaType>;

export type RandomInput = keyof typeof RANDOM_INPUTS;

/** Upstream's defaults (terraform-provider-random): every character class on, no minimum. */
export const INPUT_DEFAULTS = {
    lower: true,
    upper: true,
    special: true,
    numeric: true,
    number: true,
    minLower: 0,
    minUpper: 0,
    minNumeric: 0,
    minSpecial: 0,
} as const;

/** The special characters upstream draws from when `overrideSpecial` is not set. */
export const DEFAULT_SPECIAL = "!@#$%&*()-_=+[]{}<>:?";

/**
 * The resources, by type token. `outputs`: properties beyond the inputs; `secretOutputs`: outputs upstream's schema
 * marks secret; `unimplemented`: upstream outputs the stand-in does not produce (the program reads none of them).
 */
export const RANDOM_RESOURCES = {
    "random:index/randomPassword:RandomPassword": {
        sdkFile: "randomPassword.d.ts",
        outputs: { result: "string", bcryptHash: "string" },
        secretOutputs: ["result", "bcryptHash"],
        unimplemented: ["bcryptHash"],
    },
    "random:index/randomString:RandomString": {
        sdkFile: "randomString.d.ts",
        outputs: { result: "string" },
        secretOutputs: [],
        unimplemented: [],
    },
} as const satisfies Record<
    string,
    {
        sdkFile: string;
        outputs: Record<string, SchemaType>;
        secretOutputs: readonly string[];
        unimplemented: readonly string[];
    }
>;

export type RandomResourceType = keyof typeof RANDOM_RESOURCES;

/** Required inputs (upstream: `requiredInputs`). */
export const REQUIRED_INPUTS = ["length"] as const satisfies readonly RandomInput[];

const jsonType = (t: SchemaType) =>
    t === "object" ? { type: "object", additionalProperties: { type: "string" } } : { type: t };

/** The Pulumi package schema of the subset (served by GetSchema). */
export function schemaJson(version: string): string {
    const resources = Object.fromEntries(
        Object.entries(RANDOM_RESOURCES).map(([token, r]) => {
            const inputs = Object.fromEntries(Object.entries(RANDOM_INPUTS).map(([k, t]) => [k, jsonType(t)]));
            const outputs = Object.fromEntries(
                Object.entries(r.outputs).map(([k, t]) => [
                    k,
                    { ...jsonType(t), ...((r.secretOutputs as readonly string[]).includes(k) ? { secret: true } : {}) },
                ]),
            );
            return [
                token,
                {
                    description:
                        "Stand-in of the upstream resource for the engine tier (tools/engine/random-provider).",
                    inputProperties: inputs,
                    requiredInputs: [...REQUIRED_INPUTS],
                    properties: { ...inputs, ...outputs },
                    required: ["length", "result"],
                },
            ];
        }),
    );
    return JSON.stringify({ name: "random", version, resources });
}
