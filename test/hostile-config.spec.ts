/**
 * Hostile configuration, generated: wrong types, missing keys, unknown keys (prototype keys included), huge
 * counts, extreme and negative numbers, unicode and injection-looking names, and contradictory options, one to
 * three at a time on top of the dev stack. Every one must end in a ConfigError that names `mlops-testbed:<key>`:
 * never another exception, never a stack trace, never a registered resource.
 *
 * The bulk goes through the program's own first step (`loadConfig` reading Pulumi's config strings, as
 * `pulumi up` hands them over); a sample goes through the whole program under the mock runtime to show that
 * nothing is registered before the error.
 */
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import type { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import fc from "fast-check";
import {
    CONFIG_NAMESPACE,
    ConfigError,
    configSchema,
    loadConfig,
    parseRawConfig,
    validateConfig,
} from "../infra/config";
import { program } from "../infra/program";
import { runProgram } from "../tools/mock-runtime";
import { loadStack, toPulumiConfig } from "../tools/stack";
import { extremeModels, extremeOverrides } from "./model-fixtures";
import type { Json } from "./json";

type Path = (string | number)[];
type Raw = Record<string, unknown>;

/** The dev stack's config as the program reads it. */
const BASE: Raw = parseRawConfig(loadStack("dev").config);
const TOP_KEYS = Object.keys(configSchema.shape);

function typeOf(v: unknown): string {
    return v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
}

/** Every path into the base config (objects, arrays and leaves), root excluded. */
function allPaths(value: unknown, prefix: Path = []): Path[] {
    if (Array.isArray(value)) return value.flatMap((v, i) => [[...prefix, i], ...allPaths(v, [...prefix, i])]);
    if (value && typeof value === "object")
        return Object.entries(value).flatMap(([k, v]) => [[...prefix, k], ...allPaths(v, [...prefix, k])]);
    return [];
}

const valueAt = (root: unknown, path: Path): unknown =>
    path.reduce<Json>((cur, k) => (cur === null || typeof cur !== "object" ? undefined : cur[k]), root);

/** Sets (or with `undefined`, deletes) the value at a path of a deep copy; a path whose parent is gone is left alone. */
function withValue(root: Raw, path: Path, value: unknown): Raw {
    const copy = structuredClone(root);
    const parent = valueAt(copy, path.slice(0, -1));
    if (parent === null || typeof parent !== "object") return copy;
    const key = path[path.length - 1];
    if (value === undefined) delete (parent as Json)[key];
    // defineProperty so that keys such as "__proto__" become own keys, as JSON.parse makes them.
    else Object.defineProperty(parent, key, { value, enumerable: true, writable: true, configurable: true });
    return copy;
}

const PATHS = allPaths(BASE);
const OBJECT_PATHS: Path[] = [[], ...PATHS.filter((p) => typeOf(valueAt(BASE, p)) === "object")];
const NUMBER_PATHS = PATHS.filter((p) => typeof valueAt(BASE, p) === "number");

/** One change that makes the config invalid, and the top-level key it touches. */
interface Mutation {
    readonly kind: string;
    readonly top: string;
    readonly apply: (raw: Raw) => Raw;
}

const mutation = (kind: string, path: Path, value: unknown): Mutation => ({
    kind,
    top: String(path[0]),
    apply: (raw) => withValue(raw, path, value),
});

const ANY_VALUE = fc.oneof(
    fc.constantFrom<unknown>(null, true, false, 0, -1, 1.5, "", "text", "aws", [], [1, 2], {}, { x: 1 }),
    fc.string(),
    fc.integer(),
    fc.double(),
    fc.array(fc.string(), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 5 }), fc.string(), { maxKeys: 3 }),
);

const wrongType = fc
    .tuple(fc.constantFrom(...PATHS), ANY_VALUE)
    .filter(([path, v]) => typeOf(v) !== typeOf(valueAt(BASE, path)))
    .map(([path, v]) => mutation("wrong type", path, v));

/** Keys the dev stack sets that the schema (or a strategy) requires. */
const REQUIRED: Path[] = [
    ["cloud"],
    ["aws"],
    ["aws", "region"],
    ["gpuNodePools", 0, "name"],
    ["gpuNodePools", 0, "instanceTypes"],
    ["gpuNodePools", 0, "capacityType"],
    ["gpuNodePools", 0, "minSize"],
    ["gpuNodePools", 0, "maxSize"],
    ["models", 0, "name"],
    ["models", 0, "versions"],
    ["models", 0, "versions", 1, "name"],
    ["models", 0, "traffic", "strategy"],
    ["models", 0, "traffic", "weights"],
    ["models", 1, "name"],
    ["models", 1, "versions", 0, "name"],
];
const missingKey = fc.constantFrom(...REQUIRED).map((path) => mutation("missing key", path, undefined));

const PROTOTYPE_KEYS = ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty"];
const unknownKey = fc
    .tuple(
        fc.constantFrom(...OBJECT_PATHS),
        fc.oneof(
            fc.constantFrom(...PROTOTYPE_KEYS),
            fc.string({ minLength: 1, maxLength: 12 }).map((s) => `x${s}`),
        ),
        ANY_VALUE,
    )
    .filter(([path, key]) => {
        const obj = valueAt(BASE, path) as Record<string, unknown>;
        // Records (weights) take any key; a new key there is judged by the cross-field rules, also an error.
        return !Object.prototype.hasOwnProperty.call(obj, key);
    })
    .map(([path, key, v]): Mutation => ({
        kind: "unknown key",
        top: path.length > 0 ? String(path[0]) : key,
        apply: (raw) => withValue(raw, [...path, key], v),
    }));

/** Numbers no numeric key accepts (some take any positive real, e.g. monitoring.alerts.driftMax). */
const EXTREME_NUMBERS = [-1, -1000, -0.5, -1e308, -Number.MAX_SAFE_INTEGER, Infinity, -Infinity, NaN];
/** Whole-number counts and sizes, where huge and fractional values are extreme too. */
const COUNT_PATHS: Path[] = [
    ["gpuNodePools", 0, "maxSize"],
    ["gpuNodePools", 0, "diskSizeGiB"],
    ["cluster", "systemNodes", "maxSize"],
    ["cluster", "scaleDownUnneededMinutes"],
    ["registry", "keepImages"],
    ["artifactStores", "noncurrentVersionDays"],
    ["pipelines", "keepRuns"],
    ["network", "availabilityZones"],
    ["quotaDefaults", "gpu"],
    ["quotaDefaults", "pods"],
    ["modelGateway", "replicas"],
    ["models", 0, "traffic", "weights", "v1"],
];
const HUGE_NUMBERS = [1e9, 1e308, Number.MAX_SAFE_INTEGER + 2, 2.5, 0.001];
const extremeNumber = fc.oneof(
    fc
        .tuple(fc.constantFrom(...NUMBER_PATHS), fc.constantFrom(...EXTREME_NUMBERS))
        .map(([path, v]) => mutation("extreme number", path, v)),
    fc
        .tuple(fc.constantFrom(...COUNT_PATHS), fc.constantFrom(...HUGE_NUMBERS))
        .map(([path, v]) => mutation("extreme number", path, v)),
);

const NEGATIVE_SIZES: [Path, unknown][] = [
    [["gpuNodePools", 0, "diskSizeGiB"], -100],
    [["gpuNodePools", 0, "minSize"], -1],
    [["gpuNodePools", 0, "maxSize"], -2],
    [["cluster", "systemNodes", "diskSizeGiB"], -50],
    [["quotaDefaults", "storage"], "-5Gi"],
    [["quotaDefaults", "memory"], "-1Gi"],
    [["quotaDefaults", "cpu"], "-2"],
    [["monitoring", "storageSize"], "-20Gi"],
    [["registry", "keepImages"], -1],
    [["registry", "untaggedDays"], -3],
    [["artifactStores", "noncurrentVersionDays"], -7],
    [["models", 0, "versions", 0, "replicas"], -1],
    [["models", 0, "versions", 1, "gpu"], -2],
    [["network", "availabilityZones"], -2],
    [["modelGateway", "replicas"], -1],
    [["pipelines", "keepRuns"], -10],
];
const negativeSize = fc.constantFrom(...NEGATIVE_SIZES).map(([path, v]) => mutation("negative size", path, v));

const validModel = (i: number) => ({ name: `m${i}`, versions: [{ name: "v1" }] });
const hugeCount = fc.oneof(
    fc.integer({ min: 101, max: 160 }).map((n): Mutation =>
        mutation(
            "huge count",
            ["models"],
            Array.from({ length: n }, (_, i) => validModel(i)),
        ),
    ),
    fc.integer({ min: 17, max: 40 }).map((n): Mutation =>
        mutation(
            "huge count",
            ["models", 1, "versions"],
            Array.from({ length: n }, (_, i) => ({ name: `v${i}` })),
        ),
    ),
    fc.integer({ min: 21, max: 30 }).map((n): Mutation =>
        mutation(
            "huge count",
            ["gpuNodePools"],
            Array.from({ length: n }, (_, i) => ({
                name: `p${i}`,
                instanceTypes: ["g5.xlarge"],
                capacityType: "spot",
                minSize: 0,
                maxSize: 1,
            })),
        ),
    ),
);

/** Names no DNS label, region, CIDR, version or quantity accepts. */
const HOSTILE_STRINGS = [
    "iris; rm -rf /",
    "$(whoami)",
    "`id`",
    "../../etc/passwd",
    "名前",
    "Ἀθηνᾶ",
    "model🚀",
    "a\u0000b",
    "<script>alert(1)</script>",
    "' OR '1'='1",
    "IRIS",
    "-iris",
    "iris-",
    "a".repeat(64),
    "a".repeat(10_000),
    "",
    " ",
    "iris\n",
    "%2e%2e%2f",
    "\u202eevil",
    "${jndi:ldap://x/a}",
    "{{7*7}}",
    "iris\tv1",
];
const NAME_PATHS: Path[] = [
    ["models", 0, "name"],
    ["models", 0, "versions", 0, "name"],
    ["models", 1, "versions", 0, "name"],
    ["gpuNodePools", 0, "name"],
    ["aws", "region"],
    ["cluster", "kubernetesVersion"],
    ["cluster", "publicAccessCidrs", 0],
    ["network", "cidr"],
    ["monitoring", "retention"],
    ["quotaDefaults", "cpu"],
    ["gpuNodePools", 0, "instanceTypes", 0],
    ["cluster", "systemNodes", "instanceTypes", 0],
    ["cloud"],
    ["models", 0, "traffic", "strategy"],
];
const hostileName = fc
    .tuple(
        fc.constantFrom(...NAME_PATHS),
        fc.oneof(
            fc.constantFrom(...HOSTILE_STRINGS),
            fc.string({ unit: "binary", maxLength: 40 }).map((s) => ` ${s}\u0000`),
        ),
    )
    .map(([path, v]) => mutation("hostile name", path, v));
const hostileAdmin = fc
    .constantFrom(...HOSTILE_STRINGS)
    .map((v) => mutation("hostile name", ["cluster", "adminRoleArns"], [v]));
/** Node labels Kubernetes refuses: bad keys with a good value, and good keys with a bad value. */
const BAD_LABEL_KEYS = [
    "iris; rm -rf /",
    "$(whoami)",
    "名前",
    "<script>",
    "-iris",
    "iris-",
    "a".repeat(64),
    "a/b/c",
    " ",
    "iris\n",
    "ex ample.com/x",
];
const BAD_LABEL_VALUES = ["$(whoami)", "名前", "-iris", "iris-", "a".repeat(64), "iris\n", "a b", "{{7*7}}"];
const hostileLabel = fc
    .oneof(
        fc.constantFrom(...BAD_LABEL_KEYS).map((k) => ({ [k]: "ok" })),
        fc.constantFrom(...BAD_LABEL_VALUES).map((v) => ({ team: v })),
    )
    .map((labels) => mutation("hostile name", ["gpuNodePools", 0, "labels"], labels));

const pool = BASE.gpuNodePools as Raw[];
const models = BASE.models as Raw[];
const CONTRADICTIONS: Mutation[] = [
    mutation("contradiction", ["gpuNodePools", 0], { ...pool[0], minSize: 3, maxSize: 1 }),
    mutation("contradiction", ["gpuNodePools"], [pool[0], pool[0]]),
    mutation("contradiction", ["gpuNodePools", 0, "instanceTypes"], ["g5.xlarge", "g5g.xlarge"]),
    mutation("contradiction", ["gpuNodePools", 0, "instanceTypes"], ["m5.large"]),
    mutation("contradiction", ["cluster", "systemNodes"], { minSize: 3, maxSize: 2, desiredSize: 5 }),
    mutation("contradiction", ["cluster"], { endpointAccess: "private", publicAccessCidrs: ["203.0.113.0/24"] }),
    mutation("contradiction", ["models", 0, "traffic"], { strategy: "shadow", shadowOf: "v1", weights: { v1: 100 } }),
    mutation("contradiction", ["models", 0, "traffic"], { strategy: "shadow", shadowOf: "v9" }),
    mutation("contradiction", ["models", 0, "traffic"], { strategy: "blue-green", weights: { v1: 50, v2: 50 } }),
    mutation("contradiction", ["models", 1, "traffic"], { strategy: "canary", weights: { v1: 100 } }),
    mutation("contradiction", ["models", 0, "traffic"], { strategy: "canary", weights: { v1: 90, v3: 10 } }),
    mutation("contradiction", ["models", 0, "traffic"], { strategy: "single" }),
    mutation("contradiction", ["models", 0, "traffic"], {
        strategy: "canary",
        weights: { v1: 90, v2: 10 },
        shadowOf: "v1",
    }),
    mutation("contradiction", ["models"], [models[0], models[0]]),
    mutation("contradiction", ["models", 0, "versions"], [{ name: "v1" }, { name: "v1" }]),
    mutation("contradiction", ["models", 0, "versions", 1], { name: "v2", replicas: 3, gpu: 2 }),
    mutation("contradiction", ["models", 1, "versions", 0], { name: "v1", replicas: 50 }),
    mutation("contradiction", ["models"], [{ name: "kube", versions: [{ name: "system" }] }]),
    mutation("contradiction", ["models"], [{ name: "cert", versions: [{ name: "manager" }] }]),
    mutation(
        "contradiction",
        ["models"],
        [
            { name: "a-b", versions: [{ name: "c" }] },
            { name: "a", versions: [{ name: "b-c" }] },
        ],
    ),
];
const contradiction = fc.oneof(
    fc.constantFrom(...CONTRADICTIONS),
    fc
        .integer({ min: 0, max: 200 })
        .filter((n) => n !== 90)
        .map((n) => mutation("contradiction", ["models", 0, "traffic", "weights"], { v1: n, v2: 10 })),
);

const MUTATION = fc.oneof(
    wrongType,
    missingKey,
    unknownKey,
    extremeNumber,
    negativeSize,
    hugeCount,
    hostileName,
    hostileAdmin,
    hostileLabel,
    contradiction,
);
// One mutation per top-level key, so a later change cannot undo an earlier one (remove the weights a contradiction added).
const HOSTILE = fc
    .uniqueArray(MUTATION, { minLength: 1, maxLength: 3, selector: (m) => m.top })
    .map((ms) => ({ mutations: ms, raw: ms.reduce((raw, m) => m.apply(raw), BASE) }));

/** The config as `pulumi up` hands it to the program: `mlops-testbed:<key>` to strings (JSON for structures). */
function pulumiConfig(raw: Raw): Record<string, string> {
    const values: Record<string, unknown> = {};
    for (const key of Object.keys(raw)) if (raw[key] !== undefined) values[`${CONFIG_NAMESPACE}:${key}`] = raw[key];
    return toPulumiConfig(values).config;
}

/** Runs the program's config step on a hostile config and checks how it fails; returns the error. */
function refuses(c: { mutations: Mutation[]; raw: Raw }): ConfigError {
    pulumi.runtime.setAllConfig(pulumiConfig(c.raw), []);
    let err: unknown;
    try {
        loadConfig();
    } catch (e) {
        err = e;
    }
    const what = `${c.mutations.map((m) => `${m.kind} (${m.top})`).join(", ")}: ${JSON.stringify(c.raw).slice(0, 300)}`;
    assert.ok(err !== undefined, `accepted: ${what}`);
    assert.ok(err instanceof ConfigError, `threw ${String((err as Error)?.stack ?? err)} for ${what}`);
    assert.ok(err.issues.length > 0, what);
    for (const issue of err.issues) {
        assert.match(issue.key, /^mlops-testbed:[A-Za-z_]/, what);
        assert.ok(err.message.includes(`${issue.key}: `), `message names ${issue.key}`);
    }
    assert.doesNotMatch(err.message, /\n\s+at\s/, "no stack trace");
    const names = (top: string) =>
        err.issues.some((i) =>
            [`${CONFIG_NAMESPACE}:${top}`, `${CONFIG_NAMESPACE}:${top}.`, `${CONFIG_NAMESPACE}:${top}[`].some(
                (k) => i.key === k || (k !== `${CONFIG_NAMESPACE}:${top}` && i.key.startsWith(k)),
            ),
        );
    const touched = c.mutations.map((m) => m.top);
    assert.ok(
        touched.some(names) || touched.includes("cloud"),
        `issues name ${err.issues.map((i) => i.key).join(", ")}; mutations touched ${touched.join(", ")}`,
    );
    return err;
}

describe("hostile configuration (generated)", () => {
    const saved = pulumi.runtime.allConfig();
    after(() => pulumi.runtime.setAllConfig(saved, []));

    it("the base it mutates is valid, so every failure comes from a mutation", () => {
        assert.deepEqual(validateConfig(BASE).issues, []);
        for (const p of [...COUNT_PATHS, ...REQUIRED, ...NAME_PATHS])
            assert.notEqual(valueAt(BASE, p), undefined, `the dev stack sets ${p.join(".")}`);
        assert.ok(
            PATHS.length > 50 &&
                NUMBER_PATHS.length > 10 &&
                TOP_KEYS.every((k) => k in BASE || !["cloud", "aws"].includes(k)),
        );
    });

    it("refuses 600 malformed or extreme configurations, each with a ConfigError naming mlops-testbed:<key>", () => {
        const kinds = new Map<string, number>();
        fc.assert(
            fc.property(HOSTILE, (c) => {
                refuses(c);
                for (const m of c.mutations) kinds.set(m.kind, (kinds.get(m.kind) ?? 0) + 1);
            }),
            { numRuns: Number(process.env.HOSTILE_RUNS ?? 600) },
        );
        for (const kind of [
            "wrong type",
            "missing key",
            "unknown key",
            "extreme number",
            "negative size",
            "huge count",
            "hostile name",
            "contradiction",
        ]) {
            assert.ok((kinds.get(kind) ?? 0) >= 20, `only ${kinds.get(kind) ?? 0} cases of ${kind}`);
        }
    });

    it("refuses prototype keys at the top level, in nested objects and in maps (traffic weights, node labels)", () => {
        const withLabels = withValue(BASE, ["gpuNodePools", 0, "labels"], { team: "a" });
        for (const key of PROTOTYPE_KEYS) {
            for (const path of [
                [],
                ["network"],
                ["models", 0],
                ["gpuNodePools", 0],
                ["models", 0, "traffic", "weights"],
                ["gpuNodePools", 0, "labels"],
            ] as Path[]) {
                // "constructor" is a fine node label; only __proto__ must never be one.
                if (path.includes("labels") && key !== "__proto__") continue;
                const base = path.includes("labels") ? withLabels : BASE;
                const value = path.includes("weights") ? 5 : path.includes("labels") ? "x" : { cloud: "aws" };
                const err = refuses({
                    mutations: [{ kind: "unknown key", top: path.length ? String(path[0]) : key, apply: (r) => r }],
                    raw: withValue(base, [...path, key], value),
                });
                assert.ok(
                    err.issues.some((i) => i.key.endsWith(key)),
                    `${[...path, key].join(".")}: ${err.message}`,
                );
            }
        }
    });

    it("registers no resource before refusing: a sample through the whole program under the mock runtime", async function () {
        this.timeout(120_000);
        const sample = fc.sample(HOSTILE, { numRuns: 25, seed: 8 });
        for (const c of sample) {
            let err: unknown;
            try {
                await runProgram(program as unknown as () => Promise<Record<string, unknown>>, {
                    project: "mlops-testbed",
                    stack: "dev",
                    config: pulumiConfig(c.raw),
                });
            } catch (e) {
                err = e;
            }
            assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
            const registered = (pulumi.runtime.getMonitor() as unknown as MockMonitor).getRegisteredResources();
            assert.equal(registered.size, 0, `registered ${[...registered.keys()].join(", ")}`);
        }
    });
});

/** The dev stack with extreme models and quotas large enough for them. */
function extremeConfig(models: Raw[]): Raw {
    return { ...BASE, ...extremeOverrides(models) };
}

describe("extreme but well-formed configuration validates", () => {
    it("50 models × 10 versions, 20 GPU pools, every count at its maximum", () => {
        const raw: Raw = {
            ...extremeConfig(extremeModels()),
            gpuNodePools: Array.from({ length: 20 }, (_, i) => ({
                name: `pool-${i}`,
                instanceTypes: ["g5.xlarge", "g5.48xlarge"],
                capacityType: i % 2 ? "spot" : "on-demand",
                minSize: 0,
                maxSize: 1000,
                diskSizeGiB: 16384,
            })),
            registry: { keepImages: 10000, untaggedDays: 365 },
            network: { cidr: "10.0.0.0/8", availabilityZones: 4, natGateways: "one-per-az" },
        };
        const result = validateConfig(parseRawConfig(pulumiConfig(raw)));
        assert.deepEqual(result.issues, []);
        assert.equal(result.config!.models.flatMap((m) => m.versions).length, 500);
    });

    it("100 models of one version, and one model of 16 versions", () => {
        for (const models of [
            extremeModels(100, 1).map((m) => ({ ...m, traffic: { strategy: "single" } })),
            extremeModels(1, 16),
        ]) {
            assert.deepEqual(validateConfig(extremeConfig(models)).issues, []);
        }
    });
});
