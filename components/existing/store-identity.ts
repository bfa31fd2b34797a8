import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { IMAGES } from "../../contract/versions";
import type { StoreGrant } from "../../contract/platform";
import { STORE_NAMESPACE } from "../../contract/names";
import { STORE_ENDPOINT, STORE_RELEASE, seaweedfsActions } from "./seaweedfs";

export interface StoreIdentityArgs {
    /** Namespace and name of the workload's service account. */
    readonly namespace: pulumi.Input<string>;
    readonly serviceAccount: pulumi.Input<string>;
    readonly grants: readonly StoreGrant[];
    /** Resources the Job must wait for (the store release). */
    readonly storeReady: pulumi.Resource[];
}

/** Name of the Secret, in the workload's namespace, with its S3 credentials and endpoint. */
export function credentialsSecretName(serviceAccount: string): string {
    return `${serviceAccount}-store-credentials`;
}

/** Shell script of the Job that (re)creates the SeaweedFS identity; credentials come from env, never args. */
export const IDENTITY_SCRIPT = [
    `shell() { weed shell -master="${STORE_RELEASE}-master.${STORE_NAMESPACE}:9333" -filer="${STORE_RELEASE}-filer-client.${STORE_NAMESPACE}:8888"; }`,
    // Delete first so a changed grant replaces the old actions instead of adding to them (idempotent re-runs).
    `echo "s3.configure -user=$S3_USER -delete -apply" | shell || true`,
    `echo "s3.configure -user=$S3_USER -access_key=$AWS_ACCESS_KEY_ID -secret_key=$AWS_SECRET_ACCESS_KEY -actions=$S3_ACTIONS -apply" | shell`,
].join("\n");

/**
 * Per-workload S3 credentials on the in-cluster store (the stand-in for cloud workload identity): a generated
 * key pair, a SeaweedFS identity allowed only the grants' actions on their bucket prefixes (created by a Job
 * through the filer's IAM API, which the S3 gateway picks up without a restart), and a Secret with the keys in
 * the workload's namespace. Pods get the keys from that Secret; there is no token exchange.
 */
export class StoreIdentity extends pulumi.ComponentResource {
    readonly userName: pulumi.Output<string>;
    readonly credentialsSecret: pulumi.Output<string>;

    constructor(name: string, args: StoreIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlops-testbed:existing:StoreIdentity", name, {}, opts);
        const parent = { parent: this };
        const accessKey = new random.RandomPassword(
            `${name}-access-key`,
            { length: 20, special: false, lower: false },
            parent,
        );
        const secretKey = new random.RandomPassword(`${name}-secret-key`, { length: 40, special: false }, parent);
        const actions = seaweedfsActions(args.grants).join(",");
        this.userName = pulumi.interpolate`wl-${args.namespace}-${args.serviceAccount}`;
        const keys = {
            AWS_ACCESS_KEY_ID: pulumi.secret(accessKey.result),
            AWS_SECRET_ACCESS_KEY: pulumi.secret(secretKey.result),
        };
        const storeSide = new k8s.core.v1.Secret(
            `${name}-store-side`,
            {
                metadata: { namespace: STORE_NAMESPACE, labels: { "app.kubernetes.io/part-of": "mlops-testbed" } },
                type: "Opaque",
                stringData: keys,
            },
            { parent: this, dependsOn: args.storeReady },
        );
        // The name, not the Secret's output, is what the binding hands out: known before the Secret exists, so the
        // namespace holding it may record it (the Secret itself waits for the namespace through args.namespace).
        this.credentialsSecret = pulumi.output(args.serviceAccount).apply(credentialsSecretName);
        new k8s.core.v1.Secret(
            `${name}-credentials`,
            {
                metadata: {
                    name: this.credentialsSecret,
                    namespace: args.namespace,
                    labels: { "app.kubernetes.io/part-of": "mlops-testbed" },
                },
                type: "Opaque",
                stringData: { ...keys, AWS_ENDPOINT_URL_S3: STORE_ENDPOINT, AWS_REGION: "us-east-1" },
            },
            parent,
        );
        new k8s.batch.v1.Job(
            `${name}-configure`,
            {
                metadata: { namespace: STORE_NAMESPACE, labels: { "app.kubernetes.io/part-of": "mlops-testbed" } },
                spec: {
                    backoffLimit: 6,
                    template: {
                        spec: {
                            restartPolicy: "OnFailure",
                            securityContext: { seccompProfile: { type: "RuntimeDefault" } },
                            containers: [
                                {
                                    name: "configure",
                                    image: IMAGES.seaweedfs,
                                    command: ["/bin/sh", "-ec", IDENTITY_SCRIPT],
                                    env: [
                                        { name: "S3_USER", value: this.userName },
                                        { name: "S3_ACTIONS", value: actions },
                                        {
                                            name: "AWS_ACCESS_KEY_ID",
                                            valueFrom: {
                                                secretKeyRef: {
                                                    name: storeSide.metadata.name,
                                                    key: "AWS_ACCESS_KEY_ID",
                                                },
                                            },
                                        },
                                        {
                                            name: "AWS_SECRET_ACCESS_KEY",
                                            valueFrom: {
                                                secretKeyRef: {
                                                    name: storeSide.metadata.name,
                                                    key: "AWS_SECRET_ACCESS_KEY",
                                                },
                                            },
                                        },
                                    ],
                                    securityContext: {
                                        allowPrivilegeEscalation: false,
                                        capabilities: { drop: ["ALL"] },
                                    },
                                    resources: {
                                        requests: { cpu: "50m", memory: "64Mi" },
                                        limits: { memory: "256Mi" },
                                    },
                                },
                            ],
                        },
                    },
                },
            },
            { parent: this, dependsOn: args.storeReady },
        );
        this.registerOutputs({ userName: this.userName, credentialsSecret: this.credentialsSecret });
    }
}
