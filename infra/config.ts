import * as pulumi from "@pulumi/pulumi";
import * as runtimeConfig from "@pulumi/pulumi/runtime/config";
import { z } from "zod";
import { validateAwsConfig } from "../components/aws/validate";
import { validateAzureConfig } from "../components/azure/validate";
import { validateExistingConfig } from "../components/existing/validate";
import {
    modelGatewaySchema,
    modelsSchema,
    parseableModels,
    quotaDefaultsSchema,
    validateModels,
} from "../contract/config/models";
import { monitoringSchema } from "../contract/config/monitoring";
import { CONFIG_NAMESPACE, type ConfigIssue, keyPath } from "../contract/config/issues";
import { pipelinesSchema } from "../contract/config/pipelines";
import { validatePromotionConfig } from "../pipelines/promotion/config-rules";
import {
    artifactStoresSchema,
    type AwsConfig,
    type AzureConfig,
    type ExistingConfig,
    awsSchema,
    azureSchema,
    cloudSchema,
    clusterSchema,
    existingSchema,
    gpuNodePoolsSchema,
    kubeconfigSchema,
    storeCredentialsSchema,
    networkSchema,
    registrySchema,
} from "../contract/config/platform";

/** The whole stack configuration. Every top-level key is documented in docs/configuration.md. */
export const configSchema = z.strictObject({
    cloud: cloudSchema,
    aws: awsSchema.optional(),
    azure: azureSchema.optional(),
    existing: existingSchema.optional(),
    /** Kubeconfig of an existing cluster; a secret config value, only recorded as "[secret]" here. */
    kubeconfig: kubeconfigSchema.optional(),
    /** Keys of an existing cluster's external store; a secret config value, only recorded as "[secret]" here. */
    storeCredentials: storeCredentialsSchema.optional(),
    cluster: clusterSchema.default(clusterSchema.parse({})),
    network: networkSchema.default(networkSchema.parse({})),
    gpuNodePools: gpuNodePoolsSchema,
    artifactStores: artifactStoresSchema.default(artifactStoresSchema.parse({})),
    registry: registrySchema.default(registrySchema.parse({})),
    models: modelsSchema,
    quotaDefaults: quotaDefaultsSchema.default(quotaDefaultsSchema.parse({})),
    modelGateway: modelGatewaySchema.default(modelGatewaySchema.parse({})),
    monitoring: monitoringSchema.default(monitoringSchema.parse({})),
    pipelines: pipelinesSchema.default(pipelinesSchema.parse({})),
});

export { CONFIG_NAMESPACE, keyPath };
export type { ConfigIssue };

type ParsedConfig = z.infer<typeof configSchema>;
type CommonConfig = Omit<ParsedConfig, "cloud" | "aws" | "azure" | "existing">;

/**
 * The validated configuration. Its cloud's section is always there: validation refuses a stack without it (the
 * cloud rules), so each platform is handed its typed slice and checks nothing again.
 */
export type TestbedConfig =
    | (CommonConfig & { readonly cloud: "aws"; readonly aws: AwsConfig })
    | (CommonConfig & { readonly cloud: "azure"; readonly azure: AzureConfig })
    | (CommonConfig & { readonly cloud: "existing"; readonly existing: ExistingConfig });
/** The validated configuration of a stack on one cloud. */
export type ConfigFor<C extends TestbedConfig["cloud"]> = Extract<TestbedConfig, { cloud: C }>;
export type { GpuNodePoolConfig } from "../contract/config/platform";
export type { ModelConfig } from "../contract/config/models";

/** Raised for invalid configuration; `pulumi up` prints its message without a stack trace. */
export class ConfigError extends pulumi.RunError {
    constructor(readonly issues: readonly ConfigIssue[]) {
        super(formatIssues(issues));
        this.name = "ConfigError";
    }
}

export function formatIssues(issues: readonly ConfigIssue[]): string {
    const lines = issues.map((i) => {
        const got = i.value === undefined ? "" : ` (got ${JSON.stringify(i.value)})`;
        return `  - ${i.key}: ${i.message}${got}`;
    });
    const noun = issues.length === 1 ? "problem" : "problems";
    return `Invalid configuration: ${issues.length} ${noun} found. Fix these keys in Pulumi.<stack>.yaml:\n${lines.join("\n")}`;
}

/**
 * The raw value at an issue's path. A text the schema turns into an object (a Secret's "<namespace>/<name>") is the
 * value found for every key under it: the user wrote it, so it is shown, not reported as missing.
 */
function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
    let cur: unknown = raw;
    for (const p of path) {
        if (cur === null || typeof cur !== "object") return cur;
        cur = (cur as Record<PropertyKey, unknown>)[p];
    }
    return cur;
}

function zodIssues(error: z.ZodError, raw: Record<string, unknown>): ConfigIssue[] {
    const out: ConfigIssue[] = [];
    for (const issue of error.issues) {
        if (issue.code === "unrecognized_keys") {
            for (const k of issue.keys) {
                const allowed = allowedKeysAt(issue.path);
                out.push({
                    key: keyPath([...issue.path, k]),
                    message: `unknown key${allowed ? `; allowed keys here: ${allowed.join(", ")}` : ""}`,
                });
            }
            continue;
        }
        const value = valueAt(raw, issue.path);
        const missing = value === undefined;
        out.push({
            key: keyPath(issue.path),
            message: missing ? `is required: ${issue.message}` : issue.message,
            value: missing ? undefined : value,
        });
    }
    return out;
}

/** The keys an object in the schema accepts, for "unknown key" messages. */
function allowedKeysAt(path: readonly PropertyKey[]): string[] | undefined {
    let schema: z.ZodType = configSchema;
    for (const p of path) {
        schema = unwrap(schema);
        if (schema instanceof z.ZodArray && typeof p === "number") schema = schema.element as z.ZodType;
        else if (schema instanceof z.ZodObject) schema = schema.shape[p as string] as z.ZodType;
        else return undefined;
        if (!schema) return undefined;
    }
    schema = unwrap(schema);
    return schema instanceof z.ZodObject ? Object.keys(schema.shape) : undefined;
}

function unwrap(schema: z.ZodType): z.ZodType {
    let s: z.ZodType = schema;
    for (;;) {
        if (s instanceof z.ZodDefault || s instanceof z.ZodOptional) s = s.unwrap() as z.ZodType;
        // z.preprocess is a pipe from its function (a ZodTransform) to the schema; .transform() the reverse.
        else if (s instanceof z.ZodPipe) s = (s.in instanceof z.ZodTransform ? s.out : s.in) as z.ZodType;
        else return s;
    }
}

/**
 * Whether the schema reads a top-level key as text: its value is kept as set, even when it looks like JSON (a kubeconfig
 * may be JSON; kubectl and the Kubernetes provider read either form).
 */
const readsText = (key: string): boolean =>
    Object.hasOwn(configSchema.shape, key) &&
    unwrap((configSchema.shape as Record<string, z.ZodType>)[key]) instanceof z.ZodString;

/**
 * Pulumi hands config values over as strings; structured values are JSON. Scalars that look like JSON
 * numbers or booleans are parsed so `minSize: 0` at the top level reads as a number. A key the schema reads as text
 * stays text.
 */
export function parseRawConfig(all: Record<string, string>): Record<string, unknown> {
    const prefix = `${CONFIG_NAMESPACE}:`;
    const entries: [string, unknown][] = [];
    for (const [fullKey, text] of Object.entries(all)) {
        if (!fullKey.startsWith(prefix)) continue;
        const key = fullKey.slice(prefix.length);
        let value: unknown = text;
        if (!readsText(key) && (/^\s*[[{]/.test(text) || /^(true|false|null|-?\d+(\.\d+)?)$/.test(text))) {
            try {
                value = JSON.parse(text);
            } catch {
                value = text;
            }
        }
        entries.push([key, value]);
    }
    // fromEntries makes every key an own property: `mlops-testbed:__proto__` is reported as an unknown key
    // instead of replacing the object's prototype (whose properties would then pass for config).
    return Object.fromEntries(entries);
}

/**
 * Validates a stack's config as the Pulumi CLI hands it over (full keys to strings, and the full keys set as
 * secrets): what a tool that reads a stack file without running the program (pipelinerun, bench) must use, so a
 * stack with a secret kubeconfig validates as it does under `pulumi up`.
 */
export function validateStackConfig(config: Record<string, string>, secretKeys: readonly string[]) {
    const prefix = `${CONFIG_NAMESPACE}:`;
    return validateConfig(parseRawConfig(config), {
        secretKeys: secretKeys.filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length)),
    });
}

/** How a validation run learns which keys were set as secrets (`pulumi config set --secret`). */
export interface ValidateOptions {
    /** Short keys (e.g. "kubeconfig") whose values are secret config. */
    readonly secretKeys?: readonly string[];
}

/** How each secret-only key is set, for the message that refuses a plain value. */
const SECRET_VALUE_HINT = {
    kubeconfig: "< path/to/file",
    storeCredentials: '\'{"accessKeyId": "...", "secretAccessKey": "..."}\'',
} as const;

/** Keys that hold credentials and are refused unless set with `pulumi config set --secret`. */
export const SECRET_ONLY_KEYS = ["kubeconfig", "storeCredentials"] as const;

/**
 * Validates a raw configuration object and returns the typed config with defaults, or every problem at once.
 * Pure: it registers nothing and reads no global state.
 */
export function validateConfig(
    raw: Record<string, unknown>,
    options: ValidateOptions = {},
): { config: TestbedConfig; issues: [] } | { config?: undefined; issues: ConfigIssue[] } {
    const plaintext = SECRET_ONLY_KEYS.filter(
        (k) => raw[k] !== undefined && !(options.secretKeys ?? []).includes(k),
    ).map((k) => ({
        key: keyPath([k]),
        message: `holds credentials and must be a secret: pulumi config set --secret ${k} ${SECRET_VALUE_HINT[k]} (the value is not shown here)`,
    }));
    const parsed = configSchema.safeParse(raw);
    const issues: ConfigIssue[] = [
        ...plaintext,
        ...(parsed.success ? [] : zodIssues(parsed.error, raw).map(hideSecretValue)),
    ];
    // zod's records drop a "__proto__" key silently (strict objects report it): refuse it wherever it is.
    issues.push(...prototypeKeyIssues(raw).filter((p) => !issues.some((i) => i.key === p.key)));
    // Cloud rules read the raw values, so they report alongside schema problems rather than after them.
    if (raw.cloud === "aws") issues.push(...validateAwsConfig(raw));
    if (raw.cloud === "azure") issues.push(...validateAzureConfig(raw));
    if (raw.cloud === "existing") issues.push(...validateExistingConfig(raw));
    issues.push(...validatePromotionConfig(raw));
    if (parsed.success) {
        const config = parsed.data;
        issues.push(...validateModels(config.models, config.quotaDefaults));
        if (config.pipelines.trainingGpus > 0 && config.gpuNodePools.length === 0)
            issues.push(trainingGpusIssue(config.pipelines.trainingGpus));
        // No issue means the cloud rules found the cloud's section: the narrowed type holds.
        if (issues.length === 0) return { config: config as TestbedConfig, issues: [] };
    } else {
        // Some field failed: still judge the cross-field rules on every section that parses, so a model with a bad
        // name and bad weights reports both, and a typo elsewhere hides nothing here.
        issues.push(...crossSectionIssues(raw));
    }
    return { issues: dedupe(issues) };
}

/** The cross-field rules over the sections of a config that did not parse as a whole, each section on its own. */
function crossSectionIssues(raw: Record<string, unknown>): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    const models = parseableModels(raw.models);
    const quota = quotaDefaultsSchema.safeParse(raw.quotaDefaults ?? {});
    if (models && quota.success) issues.push(...validateModels(models, quota.data));
    const pipelines = pipelinesSchema.safeParse(raw.pipelines ?? {});
    const pools = gpuNodePoolsSchema.safeParse(raw.gpuNodePools);
    if (pipelines.success && pools.success && pipelines.data.trainingGpus > 0 && pools.data.length === 0)
        issues.push(trainingGpusIssue(pipelines.data.trainingGpus));
    return issues;
}

const trainingGpusIssue = (value: number): ConfigIssue => ({
    key: keyPath(["pipelines", "trainingGpus"]),
    message: "training on GPUs needs a GPU node pool: add one to gpuNodePools or set trainingGpus to 0",
    value,
});

/** Own `__proto__` keys anywhere in the raw config (YAML and JSON parsers make them own properties). */
function prototypeKeyIssues(value: unknown, path: PropertyKey[] = []): ConfigIssue[] {
    if (value === null || typeof value !== "object") return [];
    const issues: ConfigIssue[] = [];
    if (Object.prototype.hasOwnProperty.call(value, "__proto__")) {
        issues.push({
            key: keyPath([...path, "__proto__"]),
            message: "unknown key; __proto__ is never a valid name here",
        });
    }
    for (const [k, v] of Object.entries(value))
        issues.push(...prototypeKeyIssues(v, [...path, Array.isArray(value) ? Number(k) : k]));
    return issues;
}

/** Never echo a secret key's value in a message. */
function hideSecretValue(issue: ConfigIssue): ConfigIssue {
    return SECRET_ONLY_KEYS.some((k) => issue.key === keyPath([k]) || issue.key.startsWith(`${keyPath([k])}.`))
        ? { key: issue.key, message: issue.message }
        : issue;
}

/**
 * One line per problem: a problem found twice (a `__proto__` key under `network.x`, set both as the top-level key
 * `network.x` and as `x` under `network`) is reported once.
 */
function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
    const seen = new Set<string>();
    return issues.filter((i) => {
        const k = `${i.key}\u0000${i.message}`;
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
    });
}

/** Reads and validates the current stack's config; throws a ConfigError listing every problem. */
export function loadConfig(): TestbedConfig {
    const raw = parseRawConfig(pulumi.runtime.allConfig());
    const isSecret = (runtimeConfig as unknown as { isConfigSecret?: (key: string) => boolean }).isConfigSecret;
    const secretKeys = Object.keys(raw).filter((k) => isSecret?.(`${CONFIG_NAMESPACE}:${k}`) === true);
    const result = validateConfig(raw, { secretKeys });
    if (result.issues.length > 0 || !result.config) throw new ConfigError(result.issues);
    return result.config;
}
