import * as fs from "node:fs";
import * as path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { DATASET_CONSUMER, EVENT_LISTENER_URL, PART_OF, PIPELINES_NAMESPACE } from "../../contract/names";
import type { DatasetChangeConsumer, Platform } from "../../contract/platform";
import { consumerNetworkPolicySpec } from "./network-policies";

export interface DatasetChangeForwarderArgs {
    /** What the platform runs to read its dataset changes (Platform.datasetChanges). */
    readonly consumer: DatasetChangeConsumer;
    /** The platform: system scheduling and, when the consumer needs one, its workload identity. */
    readonly platform: Pick<Platform, "systemScheduling" | "bindWorkloadIdentity">;
    /** What must exist first: the pipelines namespace. */
    readonly dependsOn: pulumi.Input<pulumi.Resource>[];
}

/** The contract's helper every consumer script imports (contract/dataset_change_event.py), shipped beside them. */
export const DATASET_CHANGE_EVENT_LIBRARY = {
    file: "dataset_change_event.py",
    source: path.join(__dirname, "..", "..", "contract", "dataset_change_event.py"),
} as const;

/** The consumer's ConfigMap data: the platform's scripts and the contract's helper. */
export function consumerScripts(consumer: DatasetChangeConsumer): Record<string, string> {
    return {
        [DATASET_CHANGE_EVENT_LIBRARY.file]: fs.readFileSync(DATASET_CHANGE_EVENT_LIBRARY.source, "utf8"),
        ...consumer.scripts,
    };
}

/** What every consumer container gets besides what the platform gave it (see DatasetChangeConsumer). */
const CONTAINER_SECURITY = {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] },
};
const DEFAULT_RESOURCES = { requests: { cpu: "10m", memory: "64Mi" }, limits: { memory: "256Mi" } };
const TMP = { name: "tmp", mountPath: "/tmp" };
const SCRIPTS = { name: "scripts", mountPath: DATASET_CONSUMER.scripts.mountPath, readOnly: true };

/** The consumer's pod spec: the platform's containers with the listener's address, /tmp, the scripts and the pod's security. */
export function consumerPodSpec(
    consumer: DatasetChangeConsumer,
    scheduling: Platform["systemScheduling"],
    serviceAccount: pulumi.Input<string>,
): k8s.types.input.core.v1.PodSpec {
    const scripts = Object.keys(consumer.scripts).length > 0;
    return {
        serviceAccountName: serviceAccount,
        nodeSelector: { ...scheduling.nodeSelector },
        tolerations: [...scheduling.tolerations],
        securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: "RuntimeDefault" } },
        containers: consumer.containers.map((c) => ({
            ...c,
            env: [
                ...((c.env as k8s.types.input.core.v1.EnvVar[] | undefined) ?? []),
                { name: "LISTENER_URL", value: EVENT_LISTENER_URL },
                { name: "HOME", value: "/tmp" },
            ],
            resources: c.resources ?? DEFAULT_RESOURCES,
            securityContext: CONTAINER_SECURITY,
            volumeMounts: [
                TMP,
                ...(scripts ? [SCRIPTS] : []),
                ...((c.volumeMounts as k8s.types.input.core.v1.VolumeMount[] | undefined) ?? []),
            ],
        })),
        volumes: [
            { name: TMP.name, emptyDir: {} },
            ...(scripts ? [{ name: SCRIPTS.name, configMap: { name: DATASET_CONSUMER.scripts.configMap } }] : []),
            ...consumer.volumes,
        ],
    };
}

/**
 * Runs the platform's dataset-change consumer in the pipelines namespace: its service account (bound to a cloud
 * identity when the consumer needs one), its scripts, its egress policy and its Deployment. Every object keeps the
 * URN it had as a direct child of the triggers component (aliases), so moving it here replaces nothing.
 */
export class DatasetChangeForwarder extends pulumi.ComponentResource {
    constructor(name: string, args: DatasetChangeForwarderArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlops-testbed:pipelines:DatasetChangeForwarder", name, {}, opts);
        const { consumer } = args;
        const before = { parent: opts?.parent };
        const child = { parent: this, dependsOn: args.dependsOn, aliases: [before] };
        const labels = { "app.kubernetes.io/part-of": PART_OF, ...DATASET_CONSUMER.podLabels };
        const meta = (n: string) => ({ name: n, namespace: PIPELINES_NAMESPACE, labels });
        const identity = consumer.identity
            ? args.platform.bindWorkloadIdentity(name, {
                  namespace: PIPELINES_NAMESPACE,
                  serviceAccount: DATASET_CONSUMER.name,
                  grants: [],
                  consumeDatasetChanges: true,
              })
            : null;
        const sa = new k8s.core.v1.ServiceAccount(
            `${name}-sa`,
            {
                metadata: {
                    ...meta(DATASET_CONSUMER.name),
                    ...(identity ? { annotations: identity.serviceAccountAnnotations } : {}),
                },
                automountServiceAccountToken: false,
            },
            child,
        );
        if (Object.keys(consumer.scripts).length > 0) {
            new k8s.core.v1.ConfigMap(
                `${name}-scripts`,
                { metadata: meta(DATASET_CONSUMER.scripts.configMap), data: consumerScripts(consumer) },
                child,
            );
        }
        new k8s.networking.v1.NetworkPolicy(
            `${name}-egress`,
            { metadata: meta(`${DATASET_CONSUMER.name}-egress`), spec: consumerNetworkPolicySpec(consumer) },
            child,
        );
        new k8s.apps.v1.Deployment(
            `${name}-deployment`,
            {
                metadata: meta(DATASET_CONSUMER.name),
                spec: {
                    replicas: 1,
                    selector: { matchLabels: { ...DATASET_CONSUMER.podLabels } },
                    template: {
                        metadata: { labels: { ...labels, ...(identity?.podLabels ?? {}) } },
                        spec: consumerPodSpec(consumer, args.platform.systemScheduling, sa.metadata.name),
                    },
                },
            },
            { ...child, aliases: [{ ...before, name }] },
        );
        this.registerOutputs({});
    }
}
