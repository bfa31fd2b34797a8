import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
    modelNamespaceName,
    rolloutPlan,
    versionQuota,
    type ModelVersionConfig,
    type QuotaDefaults,
} from "../../contract/config/models";
import type { Platform, StoreGrant, WorkloadIdentityBinding } from "../../contract/platform";
import {
    MODEL_LABEL_KEYS,
    MODEL_SERVER,
    MODEL_SERVER_PORTS,
    NAMESPACE_ANNOTATIONS,
    PART_OF,
    DEPLOY_SETTINGS,
    MODEL_SERVER_RESOURCES,
    PIPELINE_SERVICE_ACCOUNTS,
} from "../../contract/names";
import { networkPolicySpecs } from "./network-policies";
import { DEPLOYER_RULES } from "./rbac";

export interface ModelVersionNamespaceArgs {
    /** Model name (validated DNS label). */
    readonly model: string;
    /** The version as configured: name, replicas, GPUs per replica, quota overrides. */
    readonly version: ModelVersionConfig;
    /** The stack's ResourceQuota defaults; `version.quota` overrides single fields. */
    readonly quotaDefaults: QuotaDefaults;
    /** The only thing used from the cloud: the store's egress and workload identity. */
    readonly platform: Pick<Platform, "artifactStore" | "bindWorkloadIdentity">;
}

/** Key prefix in the models store that a version's model server may read: `models/<model>/<version>/`. */
export function modelArtifactPrefix(model: string, version: string): string {
    return `models/${model}/${version}/`;
}

/** The ResourceQuota `hard` map of a version: its overrides over the stack defaults. */
export function quotaHard(version: ModelVersionConfig, defaults: QuotaDefaults): Record<string, string> {
    const q = versionQuota(version, defaults);
    return {
        "requests.cpu": q.cpu,
        "requests.memory": q.memory,
        "limits.memory": q.memory,
        "requests.nvidia.com/gpu": String(q.gpu),
        pods: String(q.pods),
        "requests.storage": q.storage,
    };
}

/** CPU/memory defaults for containers that set none. Never a GPU default or max: that would add GPU requests to every pod. */
export const CONTAINER_DEFAULTS = {
    defaultRequest: { cpu: "100m", memory: "256Mi" },
    default: { memory: "1Gi" },
} as const;

/**
 * The `envFrom` list the model-server container needs for store access, as JSON for the namespace annotation
 * NAMESPACE_ANNOTATIONS.podEnvFrom: the binding's credentials Secret where the platform has one, else `[]`.
 */
export function podEnvFrom(binding: Pick<WorkloadIdentityBinding, "credentialsSecret">): pulumi.Output<string> {
    if (!binding.credentialsSecret) return pulumi.output("[]");
    return binding.credentialsSecret.apply((name) => JSON.stringify([{ secretRef: { name } }]));
}

/**
 * One isolated namespace per model version (`<model>-<version>`): Pod Security `restricted`, a ResourceQuota,
 * CPU/memory container defaults, default-deny NetworkPolicies with the few allowed flows, the `model-server`
 * ServiceAccount bound to a cloud identity that can only read `models/<model>/<version>/`, the `model-server`
 * Service the gateway routes to, and a Role that lets the pipelines' deployer manage the server here only.
 * The Deployment itself is created by the deploy pipeline, from the ConfigMap DEPLOY_SETTINGS (also shown as
 * namespace annotations): replicas, GPUs, artifact prefix, the pod labels the identity needs and the `envFrom`
 * list with the store credentials Secret (which the platform puts in this namespace where it has no token
 * identity; `[]` elsewhere).
 */
export class ModelVersionNamespace extends pulumi.ComponentResource {
    /** Namespace name (known before deployment). */
    readonly namespaceName: string;
    readonly namespace: k8s.core.v1.Namespace;
    readonly service: k8s.core.v1.Service;
    /** The cloud identity of the model server (role ARN, client id). */
    readonly identity: pulumi.Output<string>;

    constructor(name: string, args: ModelVersionNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
        // The type the component had in components/k8s: the alias keeps the URNs of stacks deployed before the move.
        super(
            "mlops-testbed:models:ModelVersionNamespace",
            name,
            {},
            {
                ...opts,
                aliases: [...(opts?.aliases ?? []), { type: "mlops-testbed:k8s:ModelVersionNamespace" }],
            },
        );
        const { model, version, platform } = args;
        const ns = modelNamespaceName(model, version.name);
        this.namespaceName = ns;
        const k8sOpts = { parent: this };
        const labels = {
            "app.kubernetes.io/part-of": PART_OF,
            [MODEL_LABEL_KEYS.model]: model,
            [MODEL_LABEL_KEYS.version]: version.name,
        };

        const prefix = modelArtifactPrefix(model, version.name);
        const grant: StoreGrant = { store: "models", prefix, access: "read" };
        // The binding may put objects in the namespace (an existing cluster's credentials Secret), so it takes the
        // name from the Namespace resource: resolved below, once the Namespace exists, and waited for.
        const [bindingNamespace, setBindingNamespace] = pulumi.deferredOutput<string>();
        const binding = platform.bindWorkloadIdentity(`${name}-identity`, {
            namespace: bindingNamespace,
            serviceAccount: MODEL_SERVER.serviceAccount,
            grants: [grant],
        });
        this.identity = binding.identity;

        const rollout = rolloutPlan(version, args.quotaDefaults);
        const deploySettings: Record<keyof typeof DEPLOY_SETTINGS.keys, pulumi.Input<string>> = {
            replicas: String(version.replicas),
            gpu: String(version.gpu),
            maxReplicas: String(rollout.maxReplicas),
            maxSurge: String(rollout.maxSurge),
            podResources: JSON.stringify(MODEL_SERVER_RESOURCES),
            artifactPrefix: prefix,
            podLabels: JSON.stringify(binding.podLabels),
            podEnvFrom: podEnvFrom(binding),
        };
        const keyed = (keys: Record<keyof typeof DEPLOY_SETTINGS.keys, string>) =>
            Object.fromEntries(Object.entries(deploySettings).map(([k, v]) => [keys[k as keyof typeof keys], v]));
        this.namespace = new k8s.core.v1.Namespace(
            `${name}-ns`,
            {
                metadata: {
                    name: ns,
                    labels: {
                        ...labels,
                        "pod-security.kubernetes.io/enforce": "restricted",
                        "pod-security.kubernetes.io/enforce-version": "latest",
                        "pod-security.kubernetes.io/audit": "restricted",
                        "pod-security.kubernetes.io/warn": "restricted",
                    },
                    // What the deploy pipeline needs to roll out this version's server.
                    annotations: keyed(NAMESPACE_ANNOTATIONS),
                },
            },
            k8sOpts,
        );
        const nsName = this.namespace.metadata.name;
        setBindingNamespace(nsName);
        const meta = (objName: string) => ({ name: objName, namespace: nsName, labels });

        new k8s.core.v1.ResourceQuota(
            `${name}-quota`,
            { metadata: meta("model-version"), spec: { hard: quotaHard(version, args.quotaDefaults) } },
            k8sOpts,
        );
        new k8s.core.v1.LimitRange(
            `${name}-limits`,
            {
                metadata: meta("container-defaults"),
                spec: {
                    limits: [
                        {
                            type: "Container",
                            defaultRequest: { ...CONTAINER_DEFAULTS.defaultRequest },
                            default: { ...CONTAINER_DEFAULTS.default },
                        },
                    ],
                },
            },
            k8sOpts,
        );

        for (const [policy, spec] of Object.entries(networkPolicySpecs(platform.artifactStore.egress))) {
            new k8s.networking.v1.NetworkPolicy(`${name}-${policy}`, { metadata: meta(policy), spec }, k8sOpts);
        }

        new k8s.core.v1.ServiceAccount(
            `${name}-sa`,
            {
                metadata: { ...meta(MODEL_SERVER.serviceAccount), annotations: binding.serviceAccountAnnotations },
                // The server never talks to the Kubernetes API; cloud credentials come from the identity webhook's own
                // token, or from the credentials Secret where the platform has no token identity.
                automountServiceAccountToken: false,
            },
            k8sOpts,
        );

        this.service = new k8s.core.v1.Service(
            `${name}-svc`,
            {
                metadata: { ...meta(MODEL_SERVER.name), labels: { ...labels, ...MODEL_SERVER.podLabels } },
                spec: {
                    type: "ClusterIP",
                    selector: { ...MODEL_SERVER.podLabels },
                    ports: [
                        {
                            name: "http",
                            port: MODEL_SERVER_PORTS.http,
                            targetPort: MODEL_SERVER_PORTS.http,
                            protocol: "TCP",
                        },
                        {
                            name: "metrics",
                            port: MODEL_SERVER_PORTS.metrics,
                            targetPort: MODEL_SERVER_PORTS.metrics,
                            protocol: "TCP",
                        },
                    ],
                },
            },
            k8sOpts,
        );

        new k8s.core.v1.ConfigMap(
            `${name}-deploy-settings`,
            { metadata: meta(DEPLOY_SETTINGS.configMap), data: keyed(DEPLOY_SETTINGS.keys) },
            k8sOpts,
        );

        const deployer = PIPELINE_SERVICE_ACCOUNTS.deployer;
        const role = new k8s.rbac.v1.Role(
            `${name}-deployer-role`,
            { metadata: meta("pipelines-deployer"), rules: DEPLOYER_RULES },
            k8sOpts,
        );
        new k8s.rbac.v1.RoleBinding(
            `${name}-deployer-binding`,
            {
                metadata: meta("pipelines-deployer"),
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
                subjects: [{ kind: "ServiceAccount", name: deployer.name, namespace: deployer.namespace }],
            },
            k8sOpts,
        );

        this.registerOutputs({ namespace: nsName, identity: this.identity });
    }
}
