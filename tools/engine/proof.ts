/**
 * The part of the program the engine can run here today: the model layer (one ModelVersionNamespace per configured
 * version, the project's own component) from the stack's validated config, with a Kubernetes provider configured as
 * the existing platform configures it.
 *
 * Why not the whole program yet: the random provider cannot be built here (versions.ts), and the existing platform
 * installs Helm charts and Tekton manifests fetched from the internet until its add-ons can be `present`. The
 * platform below stands in for one thing, the store identity of each version: the same credentials Secret in the
 * version's namespace as the existing platform's StoreIdentity, with keys the harness generated and stored as secret
 * stack config (the real platform generates them with the random provider and registers them with SeaweedFS).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { credentialsSecretName } from "../../components/existing/store-identity";
import { STORE_ENDPOINT, STORE_S3_POD_LABELS, STORE_S3_PORT } from "../../components/existing/seaweedfs";
import type { ModelVersionNamespaceArgs } from "../../components/models/model-version-namespace";
import { ModelVersionNamespace } from "../../components/models/model-version-namespace";
import { STORE_NAMESPACE } from "../../contract/names";
import { loadConfig } from "../../infra/config";

/** Config namespace of the stand-in's keys (outside the project's, whose schema admits no extra key). */
export const PROOF_CONFIG_NAMESPACE = "engine-proof";
/** Secret config keys holding the stand-in store keys. */
export const PROOF_KEYS = { accessKey: "storeAccessKey", secretKey: "storeSecretKey" } as const;

/** Where the provider sends objects: a live cluster (kubeconfig) or YAML files (no cluster needed). */
export type ProofTarget =
    { readonly kind: "cluster"; readonly kubeconfig: string } | { readonly kind: "render"; readonly directory: string };

/** Name of the existing platform (infra/program.ts), whose children's names the stand-in reuses. */
const PLATFORM_NAME = "existing";

/**
 * Stand-in platform: the in-cluster store's egress and, per binding, the credentials Secret
 * under the name and with the metadata the existing platform gives it.
 */
export function proofPlatform(provider: k8s.Provider): ModelVersionNamespaceArgs["platform"] {
    const keys = new pulumi.Config(PROOF_CONFIG_NAMESPACE);
    return {
        artifactStore: {
            kind: "s3-compatible",
            modelsBucket: pulumi.output("models"),
            datasetsBucket: pulumi.output("datasets"),
            region: null,
            endpoint: pulumi.output(STORE_ENDPOINT),
            egress: {
                kind: "in-cluster",
                namespace: STORE_NAMESPACE,
                podLabels: { ...STORE_S3_POD_LABELS },
                port: STORE_S3_PORT,
            },
        },
        bindWorkloadIdentity: (name, args) => {
            const secretName = pulumi.output(args.serviceAccount).apply(credentialsSecretName);
            new k8s.core.v1.Secret(
                `${PLATFORM_NAME}-${name}-credentials`,
                {
                    metadata: {
                        name: secretName,
                        namespace: args.namespace,
                        labels: { "app.kubernetes.io/part-of": "mlops-testbed" },
                    },
                    type: "Opaque",
                    stringData: {
                        AWS_ACCESS_KEY_ID: keys.requireSecret(PROOF_KEYS.accessKey),
                        AWS_SECRET_ACCESS_KEY: keys.requireSecret(PROOF_KEYS.secretKey),
                        AWS_ENDPOINT_URL_S3: STORE_ENDPOINT,
                        AWS_REGION: "us-east-1",
                    },
                },
                { provider },
            );
            return {
                serviceAccountAnnotations: pulumi.output<Record<string, string>>({}),
                podLabels: {},
                identity: pulumi.interpolate`wl-${args.namespace}-${args.serviceAccount}`,
                credentialsSecret: secretName,
            };
        },
    };
}

/** The proof program for a target; its outputs are the namespaces by model and version. */
export function proofProgram(target: ProofTarget): () => Promise<Record<string, unknown>> {
    return async () => {
        const config = loadConfig();
        // The existing platform's provider settings (components/existing/platform.ts).
        const provider = new k8s.Provider(
            `${PLATFORM_NAME}-k8s`,
            target.kind === "cluster"
                ? { kubeconfig: pulumi.secret(target.kubeconfig), enableServerSideApply: true }
                : { renderYamlToDirectory: target.directory, enableServerSideApply: true },
        );
        const platform = proofPlatform(provider);
        const namespaces: Record<string, Record<string, string>> = {};
        for (const model of config.models) {
            namespaces[model.name] = {};
            for (const version of model.versions) {
                const ns = new ModelVersionNamespace(
                    `model-${model.name}-${version.name}`,
                    { model: model.name, version, quotaDefaults: config.quotaDefaults, platform },
                    { providers: [provider] },
                );
                namespaces[model.name][version.name] = ns.namespaceName;
            }
        }
        return { modelNamespaces: namespaces };
    };
}
