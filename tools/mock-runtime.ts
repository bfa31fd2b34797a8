/**
 * The offline engine: runs the real program under Pulumi's mock runtime and records every resource
 * registration with its inputs and options, every invoke, and the stack outputs. `npm run plan` and the tests
 * both use it; there is no test-only path in the program itself.
 *
 * Values a cloud computes at deploy time (ids, ARNs, bucket names, endpoints) are invented here, stable and
 * recognisable (account 123456789012, "EXAMPLE"), and remembered so the plan can show outputs that depend on
 * them as computed.
 */
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import * as pulumi from "@pulumi/pulumi";
import type { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import * as rpc from "@pulumi/pulumi/runtime/rpc";
import type { Json } from "../contract/json";

export const MOCK_ACCOUNT = "123456789012";
/** Azure subscription and tenant of the offline plan. */
export const MOCK_SUBSCRIPTION = "12345678-1234-1234-1234-123456789012";
export const MOCK_TENANT = "87654321-4321-4321-4321-210987654321";
export const SECRET_PLACEHOLDER = "[secret]";
export const COMPUTED_PLACEHOLDER = "[computed]";

/** One registered resource as the engine would receive it. */
export interface PlannedResource {
    urn: string;
    type: string;
    name: string;
    parent: string | null;
    custom: boolean;
    /** Inputs with secrets replaced by "[secret]" and resource references by their URN. */
    inputs: Record<string, unknown>;
    protect: boolean;
    retainOnDelete: boolean;
    ignoreChanges: string[];
    dependsOn: string[];
    /** URNs of the resources each input property depends on (output references). */
    propertyDependencies: Record<string, string[]>;
    /** Provider reference (`<urn>::<id>`) for custom resources; provider map for components. */
    provider: string | null;
    providers: Record<string, string>;
    /** Names of inputs that were secrets. */
    secretInputs: string[];
    /** Inputs with secrets in the clear: only when the run asked for it (`revealSecrets`), for tests. */
    revealedInputs?: Record<string, unknown>;
    /** URNs this resource also answers to (its `aliases`, as the engine resolves them): where it lived before. */
    aliases: string[];
}

export interface PlannedRead {
    type: string;
    name: string;
    id: string;
}

export interface PlannedInvoke {
    token: string;
    inputs: Record<string, unknown>;
}

export interface Plan {
    project: string;
    stack: string;
    resources: PlannedResource[];
    invokes: PlannedInvoke[];
    /** Existing resources the program reads (`Resource.get`): type, logical name and the id read. */
    reads: PlannedRead[];
    /** Stack outputs with secrets as "[secret]" and deploy-time values as "[computed]". */
    outputs: Record<string, unknown>;
    /** Stack outputs with invented deploy-time values left in place (secrets still hidden). */
    rawOutputs: Record<string, unknown>;
}

export type InvokeHandler = (inputs: Record<string, Json>, region: string) => Record<string, unknown>;

/** Invokes the program may make, answered like the cloud would. Anything else throws. */
export const INVOKES: Record<string, InvokeHandler> = {
    "aws:index/getAvailabilityZones:getAvailabilityZones": (_inputs, region) => ({
        names: ["a", "b", "c", "d"].map((z) => `${region}${z}`),
        zoneIds: [1, 2, 3, 4].map((n) => `${region.slice(0, 3)}${region.split("-").pop()}-az${n}`),
        id: region,
    }),
    "aws:index/getCallerIdentity:getCallerIdentity": () => ({
        accountId: MOCK_ACCOUNT,
        arn: `arn:aws:iam::${MOCK_ACCOUNT}:user/example`,
        userId: "EXAMPLE",
        id: MOCK_ACCOUNT,
    }),
    "aws:index/getPartition:getPartition": () => ({ partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" }),
    "azure-native:authorization:getClientConfig": () => ({
        clientId: mockGuid("deployer-client"),
        objectId: mockGuid("deployer"),
        subscriptionId: MOCK_SUBSCRIPTION,
        tenantId: MOCK_TENANT,
    }),
    // The Entra (kubelogin) kubeconfig AKS returns with format=exec when local accounts are disabled.
    "azure-native:containerservice:listManagedClusterUserCredentials": (inputs) => {
        const cluster = String(inputs.resourceName);
        const kubeconfig = [
            "apiVersion: v1",
            "kind: Config",
            "clusters:",
            `- name: ${cluster}`,
            "  cluster:",
            `    server: https://${cluster}-EXAMPLE.hcp.westeurope.azmk8s.io:443`,
            "    certificate-authority-data: EXAMPLE",
            "contexts:",
            `- name: ${cluster}`,
            "  context:",
            `    cluster: ${cluster}`,
            `    user: clusterUser_${cluster}`,
            `current-context: ${cluster}`,
            "users:",
            `- name: clusterUser_${cluster}`,
            "  user:",
            "    exec:",
            "      apiVersion: client.authentication.k8s.io/v1beta1",
            "      command: kubelogin",
            "      args: [get-token, --environment, AzurePublicCloud, --server-id, 6dae42f8-4368-4678-94ff-3960e28e3630, --client-id, 80faf920-1908-4b52-b5ef-a8e7bedfc67a, --tenant-id, " +
                MOCK_TENANT +
                ", --login, devicecode]",
        ].join("\n");
        return { kubeconfigs: [{ name: "clusterUser", value: Buffer.from(kubeconfig).toString("base64") }] };
    },
};

/** A stable, recognisable GUID for an invented Azure object id or client id. */
export function mockGuid(seed: string): string {
    const h = createHash("sha256").update(seed).digest("hex");
    return `00000000-0000-4000-8000-${h.slice(0, 12)}`;
}

/** An Azure resource id in the mock subscription. */
function azureId(inputs: Record<string, Json>, provider: string, path: string): string {
    return `/subscriptions/${MOCK_SUBSCRIPTION}/resourceGroups/${inputs.resourceGroupName ?? "rg-example"}/providers/${provider}/${path}`;
}

type Computed = (
    name: string,
    inputs: Record<string, Json>,
    ctx: { region: string; project: string; stack: string },
) => Record<string, unknown>;

const awsArn = (service: string, resource: string, region: string) =>
    `arn:aws:${service}:${region}:${MOCK_ACCOUNT}:${resource}`;

/** Deploy-time attributes per resource type; types not listed get an id (and, for AWS, an ARN). */
export const COMPUTED: Record<string, Computed> = {
    "aws:s3/bucket:Bucket": (name) => ({
        bucket: `${name}-example`,
        arn: `arn:aws:s3:::${name}-example`,
        id: `${name}-example`,
    }),
    "aws:iam/role:Role": (name, inputs) => ({
        name: inputs.name ?? `${name}-example`,
        arn: `arn:aws:iam::${MOCK_ACCOUNT}:role/${inputs.name ?? `${name}-example`}`,
    }),
    "aws:kms/key:Key": (name, _i, { region }) => ({
        keyId: `${name}-EXAMPLE`,
        arn: awsArn("kms", `key/${name}-EXAMPLE`, region),
    }),
    "aws:ecr/repository:Repository": (name, inputs, { region }) => ({
        repositoryUrl: `${MOCK_ACCOUNT}.dkr.ecr.${region}.amazonaws.com/${inputs.name ?? name}`,
        arn: awsArn("ecr", `repository/${inputs.name ?? name}`, region),
    }),
    "aws:eks/nodeGroup:NodeGroup": (name, inputs, { region }) => ({
        nodeGroupName: inputs.nodeGroupName ?? `${name}-EXAMPLE`,
        arn: awsArn("eks", `nodegroup/${inputs.clusterName}/${name}/EXAMPLE`, region),
        resources: [{ autoscalingGroups: [{ name: `eks-${name}-EXAMPLE` }], remoteAccessSecurityGroupId: "" }],
    }),
    "eks:index:Cluster": (_name, inputs, { region }) => {
        const issuer = `oidc.eks.${region}.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE`;
        const kubeconfig = {
            apiVersion: "v1",
            kind: "Config",
            clusters: [
                {
                    name: "kubernetes",
                    cluster: {
                        server: `https://EXAMPLE.gr7.${region}.eks.amazonaws.com`,
                        "certificate-authority-data": "EXAMPLE",
                    },
                },
            ],
            contexts: [{ name: "aws", context: { cluster: "kubernetes", user: "aws" } }],
            "current-context": "aws",
            users: [
                {
                    name: "aws",
                    user: {
                        exec: {
                            apiVersion: "client.authentication.k8s.io/v1beta1",
                            command: "aws",
                            args: ["eks", "get-token", "--cluster-name", inputs.name],
                        },
                    },
                },
            ],
        };
        return {
            kubeconfigJson: JSON.stringify(kubeconfig),
            kubeconfig,
            oidcIssuer: issuer,
            oidcProviderUrl: `https://${issuer}`,
            oidcProviderArn: `arn:aws:iam::${MOCK_ACCOUNT}:oidc-provider/${issuer}`,
            clusterSecurityGroupId: "sg-EXAMPLE",
            nodeSecurityGroupId: "sg-EXAMPLE",
        };
    },
    "azure-native:resources:ResourceGroup": (name, inputs) => {
        const rg = inputs.resourceGroupName ?? `${name}-example`;
        return { name: rg, id: `/subscriptions/${MOCK_SUBSCRIPTION}/resourceGroups/${rg}` };
    },
    "azure-native:network:VirtualNetwork": (name, inputs) => {
        const vnet = inputs.virtualNetworkName ?? `${name}-example`;
        return { name: vnet, id: azureId(inputs, "Microsoft.Network", `virtualNetworks/${vnet}`) };
    },
    "azure-native:network:Subnet": (name, inputs) => {
        const subnet = inputs.subnetName ?? `${name}-example`;
        return {
            name: subnet,
            id: azureId(inputs, "Microsoft.Network", `virtualNetworks/${inputs.virtualNetworkName}/subnets/${subnet}`),
        };
    },
    "azure-native:managedidentity:UserAssignedIdentity": (name, inputs) => {
        const identity = inputs.resourceName ?? `${name}-example`;
        return {
            name: identity,
            id: azureId(inputs, "Microsoft.ManagedIdentity", `userAssignedIdentities/${identity}`),
            clientId: mockGuid(`${name}-client`),
            principalId: mockGuid(`${name}-principal`),
            tenantId: MOCK_TENANT,
        };
    },
    "azure-native:containerservice:ManagedCluster": (name, inputs) => {
        const cluster = inputs.resourceName ?? `${name}-example`;
        const location = inputs.location ?? "westeurope";
        return {
            name: cluster,
            id: azureId(inputs, "Microsoft.ContainerService", `managedClusters/${cluster}`),
            fqdn: `${cluster}-EXAMPLE.hcp.${location}.azmk8s.io`,
            oidcIssuerProfile: {
                enabled: true,
                issuerURL: `https://${location}.oic.prod-aks.azure.com/${MOCK_TENANT}/${mockGuid(`${name}-issuer`)}/`,
            },
            identityProfile: {
                kubeletidentity: {
                    clientId: mockGuid(`${name}-kubelet-client`),
                    objectId: mockGuid(`${name}-kubelet`),
                    resourceId: `${name}-kubelet-EXAMPLE`,
                },
            },
        };
    },
    "azure-native:containerservice:AgentPool": (name, inputs) => ({
        name: inputs.agentPoolName ?? name,
        id: azureId(
            inputs,
            "Microsoft.ContainerService",
            `managedClusters/${inputs.resourceName}/agentPools/${inputs.agentPoolName ?? name}`,
        ),
    }),
    "azure-native:storage:StorageAccount": (name, inputs) => {
        const account = inputs.accountName ?? `${name}example`;
        return {
            name: account,
            id: azureId(inputs, "Microsoft.Storage", `storageAccounts/${account}`),
            primaryEndpoints: {
                blob: `https://${account}.blob.core.windows.net/`,
                dfs: `https://${account}.dfs.core.windows.net/`,
            },
        };
    },
    "azure-native:storage:BlobContainer": (name, inputs) => {
        const container = inputs.containerName ?? `${name}-example`;
        return {
            name: container,
            id: azureId(
                inputs,
                "Microsoft.Storage",
                `storageAccounts/${inputs.accountName}/blobServices/default/containers/${container}`,
            ),
        };
    },
    "azure-native:storage:Queue": (name, inputs) => {
        const queue = inputs.queueName ?? `${name}-example`;
        return {
            name: queue,
            id: azureId(
                inputs,
                "Microsoft.Storage",
                `storageAccounts/${inputs.accountName}/queueServices/default/queues/${queue}`,
            ),
        };
    },
    "azure-native:eventgrid:SystemTopic": (name, inputs) => {
        const topic = inputs.systemTopicName ?? `${name}-example`;
        return {
            name: topic,
            id: azureId(inputs, "Microsoft.EventGrid", `systemTopics/${topic}`),
            identity: { ...inputs.identity, principalId: mockGuid(`${name}-principal`), tenantId: MOCK_TENANT },
        };
    },
    "azure-native:containerregistry:Registry": (name, inputs) => {
        const registry = inputs.registryName ?? `${name}example`;
        return {
            name: registry,
            id: azureId(inputs, "Microsoft.ContainerRegistry", `registries/${registry}`),
            loginServer: `${registry}.azurecr.io`,
        };
    },
    "azure-native:keyvault:Vault": (name, inputs) => {
        const vault = inputs.vaultName ?? `${name}-example`;
        return {
            name: vault,
            id: azureId(inputs, "Microsoft.KeyVault", `vaults/${vault}`),
            properties: { ...inputs.properties, vaultUri: `https://${vault}.vault.azure.net/` },
        };
    },
    "azure-native:keyvault:Key": (name, inputs) => {
        const key = inputs.keyName ?? name;
        const keyUri = `https://${inputs.vaultName}.vault.azure.net/keys/${key}`;
        return {
            name: key,
            id: azureId(inputs, "Microsoft.KeyVault", `vaults/${inputs.vaultName}/keys/${key}`),
            keyUri,
            keyUriWithVersion: `${keyUri}/EXAMPLE0123456789`,
        };
    },
    "azure-native:operationalinsights:Workspace": (name, inputs) => {
        const workspace = inputs.workspaceName ?? `${name}-example`;
        return {
            name: workspace,
            id: azureId(inputs, "Microsoft.OperationalInsights", `workspaces/${workspace}`),
            customerId: mockGuid(`${name}-workspace`),
        };
    },
    "azure-native:authorization:RoleAssignment": (name, inputs) => {
        const guid = mockGuid(`${name}-assignment`);
        return { name: guid, id: `${inputs.scope}/providers/Microsoft.Authorization/roleAssignments/${guid}` };
    },
    "random:index/randomString:RandomString": (name, inputs) => ({
        result: createHash("sha256")
            .update(name)
            .digest("hex")
            .replace(/[^a-z]/g, "")
            .padEnd(64, "x")
            .slice(0, inputs.length ?? 8),
    }),
    "random:index/randomPassword:RandomPassword": (name, inputs) => ({
        result: `${name}-EXAMPLE-${"x".repeat(Math.max(0, (inputs.length ?? 16) - name.length - 9))}`,
    }),
    "random:index/randomBytes:RandomBytes": (name) => ({ hex: `${name}EXAMPLE`, base64: `${name}EXAMPLE` }),
    "random:index/randomId:RandomId": (name) => ({ hex: `${name}EXAMPLE`, b64Url: `${name}EXAMPLE` }),
};

/** Replaces secrets, resource references and unknowns in deserialized RPC values with readable placeholders. */
export function toPlain(value: unknown, secretPaths?: { path: string; out: string[] }, reveal = false): unknown {
    if (value === null || value === undefined) return value ?? null;
    if (value === rpc.unknownValue) return COMPUTED_PLACEHOLDER;
    if (Array.isArray(value))
        return value.map((v, i) =>
            toPlain(v, secretPaths && { ...secretPaths, path: `${secretPaths.path}[${i}]` }, reveal),
        );
    if (typeof value === "object") {
        const obj = value as Record<string, unknown>;
        const sig = obj[rpc.specialSigKey];
        if (sig === rpc.specialSecretSig) {
            secretPaths?.out.push(secretPaths.path);
            return reveal ? toPlain(obj["value"], undefined, reveal) : SECRET_PLACEHOLDER;
        }
        if (sig === rpc.specialResourceSig) return obj["urn"];
        if (sig === rpc.specialOutputValueSig)
            return "value" in obj ? toPlain(obj["value"], secretPaths, reveal) : COMPUTED_PLACEHOLDER;
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(obj)) {
            out[k] = toPlain(
                v,
                secretPaths && { ...secretPaths, path: secretPaths.path ? `${secretPaths.path}.${k}` : k },
                reveal,
            );
        }
        return out;
    }
    return value;
}

function collectStrings(value: unknown, into: Set<string>): void {
    if (typeof value === "string") into.add(value);
    else if (Array.isArray(value)) value.forEach((v) => collectStrings(v, into));
    else if (value && typeof value === "object") Object.values(value).forEach((v) => collectStrings(v, into));
}

class PlanMocks implements pulumi.runtime.Mocks {
    readonly invented = new Set<string>();
    readonly invokes: PlannedInvoke[] = [];
    readonly reads: PlannedRead[] = [];
    constructor(private readonly ctx: { region: string; project: string; stack: string }) {}

    newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, Json> } {
        // A read of an existing resource (`get`): recorded, and answered with no state (nothing is known offline).
        if (args.id) {
            this.reads.push({ type: args.type, name: args.name, id: args.id });
            return { id: args.id, state: {} };
        }
        const computed: Record<string, unknown> = {
            ...(COMPUTED[args.type]?.(args.name, args.inputs, this.ctx) ?? {}),
        };
        if (args.type.startsWith("aws:") && !("arn" in computed)) {
            const service = args.type.split(":")[1].split("/")[0];
            computed.arn = awsArn(
                service,
                `${args.type.split(":")[2].toLowerCase()}/${args.name}-EXAMPLE`,
                this.ctx.region,
            );
        }
        if (args.type.startsWith("kubernetes:") && args.inputs.metadata && !args.inputs.metadata.name) {
            computed.metadata = { ...args.inputs.metadata, name: `${args.name}-example` };
        }
        const id = (computed.id as string | undefined) ?? `${args.name}-id`;
        const given = new Set<string>();
        collectStrings(args.inputs, given);
        this.remember(computed, given);
        if (!given.has(id)) this.invented.add(id);
        return { id, state: { ...args.inputs, ...computed } };
    }

    call(args: pulumi.runtime.MockCallArgs): Record<string, Json> {
        const handler = INVOKES[args.token];
        if (!handler) throw new Error(`unmocked invoke ${args.token}: add it to INVOKES in tools/mock-runtime.ts`);
        this.invokes.push({ token: args.token, inputs: toPlain(args.inputs) as Record<string, unknown> });
        return handler(args.inputs, this.ctx.region);
    }

    /** Remembers invented strings (not those copied from the inputs) so outputs built from them show as computed. */
    private remember(value: unknown, given: Set<string>): void {
        const found = new Set<string>();
        collectStrings(value, found);
        for (const s of found) if (s.length >= 8 && !given.has(s) && !s.startsWith("{")) this.invented.add(s);
    }
}

/**
 * The URN an alias names, as the engine builds it: an alias URN as given, or a spec whose empty name and type stand
 * for the resource's own, under the spec's parent (or none).
 */
function aliasUrn(alias: Json, urn: string): string {
    if (alias.hasUrn?.()) return alias.getUrn();
    const spec = alias.getSpec();
    const [, stackAndProject, rest] = /^urn:pulumi:(.+?::.+?)::(.+)$/.exec(urn)!;
    const own = {
        type: rest.slice(0, rest.lastIndexOf("::")).split("$").pop()!,
        name: rest.slice(rest.lastIndexOf("::") + 2),
    };
    const type = spec.getType() || own.type;
    const name = spec.getName() || own.name;
    const parentUrn: string = spec.getNoparent() ? "" : spec.getParenturn();
    return `urn:pulumi:${stackAndProject}::${qualifiedType(parentUrn, type)}::${name}`;
}

const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";

/**
 * A URN's qualified type as the engine builds it (step_generator's generateURN): the parent's whole qualified type
 * (every ancestor but the root stack), `$`, then the type. The SDK's MockMonitor keeps only the parent's own type,
 * which differs from the engine for resources two components deep (the engine tier found it on the webhook
 * gateway's objects).
 */
export function qualifiedType(parentUrn: string, type: string): string {
    const parentType = parentUrn ? parentUrn.split("::")[2] : "";
    return parentType && parentType !== ROOT_STACK_TYPE ? `${parentType}$${type}` : type;
}

/**
 * Records every registration request the mock monitor receives, with the options plain mocks do not see
 * (protect, retainOnDelete, dependsOn, ignoreChanges, providers).
 *
 * The inputs are the ones the monitor has just deserialized for the mocks' `newResource`, which it calls before its
 * first await: deserializing the request a second time here cost a plan about a tenth of its own work. (The monitor
 * drops unknown values; a plan is no preview, so none are sent.)
 */
function recordRegistrations(monitor: MockMonitor, revealSecrets: boolean): PlannedResource[] {
    const planned: PlannedResource[] = [];
    const mocks = (monitor as unknown as { mocks: pulumi.runtime.Mocks }).mocks;
    const newResource = mocks.newResource.bind(mocks);
    let taken: Record<string, unknown> | undefined;
    mocks.newResource = (args) => {
        taken = args.inputs as Record<string, unknown>;
        return newResource(args);
    };
    // URNs as the engine makes them (qualifiedType), for registrations and reads alike.
    (monitor as unknown as { newUrn: (parent: string, type: string, name: string) => string }).newUrn = (
        parent,
        type,
        name,
    ) => `urn:pulumi:${pulumi.getStack()}::${pulumi.getProject()}::${qualifiedType(parent, type)}::${name}`;
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: Json, callback: (err: Json, innerResponse: Json) => void) => {
        const secretInputs: string[] = [];
        const propertyDependencies: Record<string, string[]> = {};
        req.getPropertydependenciesMap().forEach((deps: Json, key: string) => {
            propertyDependencies[key] = deps.getUrnsList();
        });
        const providers: Record<string, string> = {};
        req.getProvidersMap().forEach((ref: string, pkg: string) => {
            providers[pkg] = ref;
        });
        // Kept in registration order; the URN is the one the monitor answers with.
        const record: PlannedResource = {
            urn: "",
            type: req.getType(),
            name: req.getName(),
            parent: req.getParent() || null,
            custom: req.getCustom(),
            inputs: {},
            protect: req.getProtect() === true,
            retainOnDelete: req.getRetainondelete() === true,
            ignoreChanges: req.getIgnorechangesList(),
            dependsOn: req.getDependenciesList(),
            propertyDependencies,
            provider: req.getProvider() || null,
            providers,
            secretInputs,
            aliases: [],
        };
        const aliasSpecs = (req.getAliasesList?.() ?? []) as Json[];
        planned.push(record);
        taken = undefined;
        const registered = register(req, (err, response) => {
            if (!err) {
                record.urn = response.getUrn();
                record.aliases = aliasSpecs.map((a) => aliasUrn(a, record.urn));
            }
            callback(err, response);
        });
        // A failed deserialization leaves nothing taken: the monitor reports that error through the callback.
        const deserialized = taken ?? {};
        record.inputs = toPlain(deserialized, { path: "", out: secretInputs }) as Record<string, unknown>;
        if (revealSecrets) record.revealedInputs = toPlain(deserialized, undefined, true) as Record<string, unknown>;
        return registered;
    };
    return planned;
}

export interface RunOptions {
    project: string;
    stack: string;
    /** Config as Pulumi passes it: full keys ("mlops-testbed:cloud") to string values (JSON for structured values). */
    config: Record<string, string>;
    /** Keys whose values are secrets. */
    secretKeys?: string[];
    /** Record each resource's inputs with secrets in the clear too (`revealedInputs`); for tests only. */
    revealSecrets?: boolean;
}

/** Unwraps an output to its value and whether it was secret, without registering anything. */
async function settle(value: unknown): Promise<{ value: unknown; secret: boolean }> {
    if (pulumi.Output.isInstance(value)) {
        const o = value as pulumi.Output<unknown>;
        const [inner, secret] = await Promise.all([(o as Json).promise(true), (o as Json).isSecret]);
        const nested = await settle(inner);
        return { value: nested.value, secret: secret || nested.secret };
    }
    if (value instanceof Promise) return settle(await value);
    if (Array.isArray(value)) {
        const items = await Promise.all(value.map(settle));
        return { value: items.map((i) => i.value), secret: items.some((i) => i.secret) };
    }
    if (value && typeof value === "object" && !pulumi.Resource.isInstance(value)) {
        const entries = await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await settle(v)] as const));
        return {
            value: Object.fromEntries(entries.map(([k, s]) => [k, s.value])),
            secret: entries.some(([, s]) => s.secret),
        };
    }
    return { value, secret: false };
}

function markComputed(value: unknown, invented: Set<string>): unknown {
    if (typeof value === "string") {
        for (const v of invented) if (value.includes(v)) return COMPUTED_PLACEHOLDER;
        return value;
    }
    if (Array.isArray(value)) return value.map((v) => markComputed(v, invented));
    if (value && typeof value === "object")
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, markComputed(v, invented)]));
    return value;
}

/** Loads a module as the SDK does (its own copy of google-protobuf, however the install lays packages out). */
const sdkRequire = createRequire(require.resolve("@pulumi/pulumi"));
const structProto = sdkRequire(
    "google-protobuf/google/protobuf/struct_pb",
) as typeof import("google-protobuf/google/protobuf/struct_pb");
const { Struct } = structProto;

/** The SDK's promise bookkeeping: every promise it makes goes through `debuggablePromise`, looked up at each call. */
interface DebuggableModule {
    debuggablePromise: <T>(p: Promise<T>, ctx: string) => Promise<T>;
    debugPromiseLeaks: boolean;
}
const debuggable = sdkRequire("./runtime/debuggable") as DebuggableModule;
const runtimeState = sdkRequire("./runtime/state") as { getStore: () => { leakCandidates: Set<Promise<unknown>> } };

/**
 * `debuggablePromise` without its debugging aids: the SDK's version gives every promise it makes (about twenty per
 * resource) an id, a label and a captured stack as properties, which only PULUMI_DEBUG_PROMISE_LEAKS ever prints.
 * The rest is kept as it is: the promise counts as a leak until it settles, and the same two reactions (so every
 * value arrives on the same tick, and resources register in the same order).
 */
function lightDebuggablePromise<T>(p: Promise<T>): Promise<T> {
    const store = runtimeState.getStore();
    store.leakCandidates.add(p);
    return p
        .then((value) => {
            store.leakCandidates.delete(p);
            return value;
        })
        .catch((err: unknown) => {
            store.leakCandidates.delete(p);
            (err as { promise?: unknown }).promise = p;
            throw err;
        });
}

/**
 * A copy of a value as a protobuf Struct round trip gives it back: the same kinds of value accepted (anything else
 * throws, as `Value.fromJavaScript` does), every object's enumerable keys (`for…in`, like `Struct.fromJavaScript`) in
 * sorted order (a Struct's fields map lists its keys sorted, and `toJavaScript` inserts them in that order).
 */
function structCopy(value: unknown): unknown {
    if (value === null) return null;
    switch (typeof value) {
        case "string":
        case "number":
        case "boolean":
            return value;
        case "object":
            return Array.isArray(value) ? structListCopy(value) : structObjectCopy(value as Record<string, unknown>);
        default:
            throw new Error("Unexpected struct type.");
    }
}

function structListCopy(list: readonly unknown[]): unknown[] {
    const out = new Array<unknown>(list.length);
    for (let i = 0; i < list.length; i++) out[i] = structCopy(list[i]);
    return out;
}

function structObjectCopy(obj: Record<string, unknown>): Record<string, unknown> {
    const keys: string[] = [];
    for (const key in obj) keys.push(key);
    keys.sort();
    const out: Record<string, unknown> = {};
    for (const key of keys) out[key] = structCopy(obj[key]);
    return out;
}

/** A copy of a value already in Struct form (keys sorted, kinds checked): order kept, nothing sorted again. */
function plainCopy(value: unknown): unknown {
    if (value === null || typeof value !== "object") return value;
    if (Array.isArray(value)) return value.map(plainCopy);
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) out[key] = plainCopy((value as Record<string, unknown>)[key]);
    return out;
}

/**
 * A Struct that keeps its value as plain JavaScript. Under the mocks every registration, invoke and response crosses
 * the monitor as a Struct built field by field (a protobuf Value per number and string) only to be turned back
 * into JavaScript on the other side: about a tenth of a plan's CPU, and much of its garbage. This one gives
 * `toJavaScript` the same value at a fraction of the cost; its protobuf fields are built only when something asks
 * for them (`getFieldsMap`: serialisation, or the SDK reading a `getResource` answer).
 */
class PlainStruct extends Struct {
    private fieldsBuilt = false;
    constructor(private readonly plain: Record<string, unknown>) {
        super();
    }

    override toJavaScript(): ReturnType<InstanceType<typeof Struct>["toJavaScript"]> {
        return plainCopy(this.plain) as ReturnType<InstanceType<typeof Struct>["toJavaScript"]>;
    }

    override getFieldsMap(): ReturnType<InstanceType<typeof Struct>["getFieldsMap"]> {
        const fields = super.getFieldsMap();
        if (!this.fieldsBuilt) {
            this.fieldsBuilt = true;
            for (const [key, value] of Object.entries(this.plain))
                fields.set(key, structProto.Value.fromJavaScript(value as never));
        }
        return fields;
    }
}

/** The Struct a plan uses where the SDK would build `Struct.fromJavaScript(value)`: what it reads back is the same. */
export function plainStruct(value: Record<string, unknown>): InstanceType<typeof Struct> {
    return new PlainStruct(structObjectCopy(value));
}

/** Whether an error's stack names at least one frame (V8 writes each as a line starting with "at"). */
const hasFrames = (err: unknown) => err instanceof Error && /\n\s+at /.test(err.stack ?? "");

/** What `withLightRuntime` swaps out, to put back once the last plan running ends. */
let lightRuntimeRestore: (() => void) | undefined;
let lightRuntimeUsers = 0;

/**
 * Runs `program` with the SDK's work that a plan never reads left out; none of it changes what is registered, nor
 * when (see the plans compared in docs/tests.md):
 * - no stack frames captured and no source maps applied. Pulumi's SDK formats a stack trace for every promise it
 *   makes (for a leak report at exit) and for every resource (its source position for the engine, for which
 *   `Resource.callsites` lifts the limit to every frame); formatting them, source-mapped under tsx, was about half of
 *   a plan's CPU time;
 * - Structs kept as plain JavaScript (PlainStruct) instead of a protobuf tree per registration, invoke and response;
 * - promises without their debugging properties (lightDebuggablePromise), unless PULUMI_DEBUG_PROMISE_LEAKS asks.
 * Everything is put back when the last plan in the process ends.
 */
async function withLightRuntime<T>(run: () => Promise<T>): Promise<T> {
    if (lightRuntimeUsers++ === 0) {
        const limit = Error.stackTraceLimit;
        const sourceMaps = process.sourceMapsEnabled;
        const resourceClass = pulumi.Resource as unknown as { callsites: () => unknown[] };
        const callsites = resourceClass.callsites;
        const fromJavaScript = Struct.fromJavaScript;
        const debuggablePromise = debuggable.debuggablePromise;
        Error.stackTraceLimit = 0;
        process.setSourceMapsEnabled(false);
        resourceClass.callsites = () => [];
        Struct.fromJavaScript = plainStruct;
        if (!debuggable.debugPromiseLeaks) {
            // The SDK's own version once: its first call is what schedules the leak report at exit.
            void debuggablePromise(Promise.resolve(), "plan");
            debuggable.debuggablePromise = lightDebuggablePromise;
        }
        lightRuntimeRestore = () => {
            Error.stackTraceLimit = limit;
            process.setSourceMapsEnabled(sourceMaps);
            resourceClass.callsites = callsites;
            Struct.fromJavaScript = fromJavaScript;
            debuggable.debuggablePromise = debuggablePromise;
        };
    }
    try {
        return await run();
    } finally {
        if (--lightRuntimeUsers === 0) lightRuntimeRestore?.();
    }
}

/**
 * Runs `program` under the mock runtime with the given config and returns everything it would create.
 * Errors thrown by the program (e.g. a ConfigError) propagate unchanged. The program runs without stack traces
 * (withLightRuntime); when it throws, it runs once more with them, so the error that propagates says where it
 * came from (the mocks are deterministic: the same program and config throw the same error).
 */
export async function runProgram(program: () => Promise<Record<string, unknown>>, opts: RunOptions): Promise<Plan> {
    try {
        return await withLightRuntime(() => runProgramOnce(program, opts));
    } catch (err) {
        if (hasFrames(err)) throw err;
        await runProgramOnce(program, opts);
        // Not reproduced (a program that is not deterministic): the first error is the one to report.
        throw err;
    }
}

async function runProgramOnce(program: () => Promise<Record<string, unknown>>, opts: RunOptions): Promise<Plan> {
    const regionMatch = /"region"\s*:\s*"([a-z0-9-]+)"/.exec(opts.config["mlops-testbed:aws"] ?? "");
    const mocks = new PlanMocks({ region: regionMatch?.[1] ?? "eu-west-1", project: opts.project, stack: opts.stack });
    // setMocks also turns on the monitor features (secrets above all); we only observe the monitor it made.
    await pulumi.runtime.setMocks(mocks, opts.project, opts.stack, false);
    const planned = recordRegistrations(
        pulumi.runtime.getMonitor() as unknown as MockMonitor,
        opts.revealSecrets === true,
    );
    pulumi.runtime.setAllConfig(opts.config, opts.secretKeys ?? []);
    let result: Record<string, unknown>;
    try {
        result = await program();
    } finally {
        // Let every pending registration reach the monitor before reading what was recorded.
        await pulumi.runtime.disconnect();
    }
    const rawOutputs: Record<string, unknown> = {};
    const outputs: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(result)) {
        const settled = await settle(value);
        rawOutputs[key] = settled.secret ? SECRET_PLACEHOLDER : (settled.value ?? null);
        outputs[key] = settled.secret ? SECRET_PLACEHOLDER : markComputed(settled.value ?? null, mocks.invented);
    }
    return {
        project: opts.project,
        stack: opts.stack,
        resources: planned,
        invokes: mocks.invokes,
        reads: mocks.reads,
        outputs,
        rawOutputs,
    };
}
