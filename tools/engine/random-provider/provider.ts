/**
 * A stand-in `random` resource provider for the engine tier, on Pulumi's own provider SDK for Node
 * (`@pulumi/pulumi/provider`): RandomPassword and RandomString as the program uses them (schema.ts). The real
 * provider (github.com/pulumi/pulumi-random/provider/v4) cannot be built here: the Go module proxy refuses it (see
 * tools/engine/versions.ts and docs/engine.md). Never used outside tools/engine.
 */
import * as crypto from "node:crypto";
import type * as provider from "@pulumi/pulumi/provider";
import {
    DEFAULT_SPECIAL,
    INPUT_DEFAULTS,
    RANDOM_INPUTS,
    RANDOM_RESOURCES,
    type RandomInput,
    type RandomResourceType,
    schemaJson,
} from "./schema";

/** The version the stand-in reports: the SDK's, with build metadata saying what it is (semver ignores it). */
export const STANDIN_VERSION = "4.21.2+mlops-testbed-standin";

/** The wire form of a secret value in the provider protocol (the engine sends and accepts it). */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270";
const secret = (value: unknown) => ({ [SECRET_SIG]: SECRET_VALUE, value });
const unwrap = (v: unknown): unknown =>
    v && typeof v === "object" && (v as Record<string, unknown>)[SECRET_SIG] === SECRET_VALUE
        ? (v as { value: unknown }).value
        : v;

type Inputs = Partial<Record<RandomInput, unknown>>;

function resourceType(urn: string): RandomResourceType {
    const type = urn.split("::")[2]?.split("$").pop();
    if (!type || !(type in RANDOM_RESOURCES)) throw new Error(`the stand-in random provider has no type ${type}`);
    return type as RandomResourceType;
}

/** Inputs with upstream's defaults filled in, and the problems upstream's validation would report. */
export function checkInputs(news: Inputs): { inputs: Inputs; failures: provider.CheckFailure[] } {
    const raw = Object.fromEntries(Object.entries(news).map(([k, v]) => [k, unwrap(v)])) as Inputs;
    const failures: provider.CheckFailure[] = [];
    for (const k of Object.keys(raw))
        if (!(k in RANDOM_INPUTS) && !k.startsWith("__"))
            failures.push({ property: k, reason: `unknown property ${k}` });
    // `number` is the deprecated name of `numeric`: upstream keeps the two equal.
    const numeric = raw.numeric ?? raw.number ?? INPUT_DEFAULTS.numeric;
    const inputs: Inputs = { ...INPUT_DEFAULTS, ...raw, numeric, number: numeric };
    const length = inputs.length;
    if (typeof length !== "number" || !Number.isInteger(length) || length < 1)
        failures.push({ property: "length", reason: "length must be an integer of at least 1" });
    const mins = (["minLower", "minUpper", "minNumeric", "minSpecial"] as const).map((k) => Number(inputs[k]));
    if (typeof length === "number" && mins.reduce((a, b) => a + b, 0) > length)
        failures.push({ property: "length", reason: "length must be at least the sum of the min* values" });
    const classes = (["lower", "upper", "numeric", "special"] as const).filter((k) => inputs[k] === true);
    if (classes.length === 0) failures.push({ property: "lower", reason: "at least one character class must be on" });
    return { inputs, failures };
}

/** A random string as upstream draws it: each minimum from its class, the rest from every enabled class, shuffled. */
export function generate(inputs: Inputs): string {
    const sets = {
        lower: "abcdefghijklmnopqrstuvwxyz",
        upper: "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        numeric: "0123456789",
        special: typeof inputs.overrideSpecial === "string" ? inputs.overrideSpecial : DEFAULT_SPECIAL,
    } as const;
    const mins = { lower: "minLower", upper: "minUpper", numeric: "minNumeric", special: "minSpecial" } as const;
    const pick = (set: string) => set[crypto.randomInt(set.length)];
    const chars: string[] = [];
    let all = "";
    for (const cls of Object.keys(sets) as (keyof typeof sets)[]) {
        if (inputs[cls] !== true) continue;
        all += sets[cls];
        for (let i = 0; i < Number(inputs[mins[cls]] ?? 0); i++) chars.push(pick(sets[cls]));
    }
    while (chars.length < Number(inputs.length)) chars.push(pick(all));
    for (let i = chars.length - 1; i > 0; i--) {
        const j = crypto.randomInt(i + 1);
        [chars[i], chars[j]] = [chars[j], chars[i]];
    }
    return chars.join("");
}

/** Inputs whose value changed (upstream replaces the resource on any of them). */
export function changedInputs(olds: Inputs, news: Inputs): RandomInput[] {
    return (Object.keys(RANDOM_INPUTS) as RandomInput[]).filter(
        (k) => JSON.stringify(unwrap(olds[k]) ?? null) !== JSON.stringify(unwrap(news[k]) ?? null),
    );
}

export const randomProvider: provider.Provider = {
    version: STANDIN_VERSION,
    schema: schemaJson(STANDIN_VERSION),
    async check(urn, _olds, news) {
        resourceType(urn);
        return checkInputs(news as Inputs);
    },
    async diff(_id, _urn, olds, news) {
        const changed = changedInputs(olds as Inputs, news as Inputs);
        return { changes: changed.length > 0, replaces: changed, deleteBeforeReplace: false };
    },
    async create(urn, inputs) {
        const type = resourceType(urn);
        const plain = Object.fromEntries(Object.entries(inputs as Inputs).map(([k, v]) => [k, unwrap(v)])) as Inputs;
        const result = generate(plain);
        const secretResult = (RANDOM_RESOURCES[type].secretOutputs as readonly string[]).includes("result");
        return {
            id: crypto.randomUUID(),
            outs: { ...inputs, result: secretResult ? secret(result) : result },
        };
    },
    async read(id, _urn, props) {
        // Nothing lives outside the state: what the state holds is the resource.
        return { id, props };
    },
    async delete() {
        // Nothing to delete outside the state.
    },
};
