/**
 * Kubernetes control planes (EKS, AKS): Secrets encrypted with a key the account controls (outside production, EKS's
 * default envelope encryption with an AWS owned key is enough), audit logs kept, and in production no API endpoint
 * open to the whole internet.
 *
 * EKS appears twice in a real preview: the `eks:index:Cluster` component (a multi-language component whose own
 * registration carries no inputs) and the `aws:eks/cluster:Cluster` it creates. The offline plan records the
 * component with the program's inputs and never runs the component's code, so both forms are read; a component
 * without inputs is left to its child.
 */
import type {
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationPolicy,
} from "@pulumi/policy";
import { asArray, configuredBy, isProduction, isRecord, PRODUCTION_CONFIG_SCHEMA } from "../lib/resources";
import type { Json } from "../../contract/json";

export const EKS_COMPONENT = "eks:index:Cluster";
export const EKS_CLUSTER = "aws:eks/cluster:Cluster";
export const AKS_CLUSTER = "azure-native:containerservice:ManagedCluster";
const AZURE_DIAGNOSTIC_SETTING = ["azure-native:monitor:DiagnosticSetting", "azure-native:insights:DiagnosticSetting"];
const CLUSTER_TYPES = [EKS_COMPONENT, EKS_CLUSTER, AKS_CLUSTER];

const OPEN_CIDRS = ["0.0.0.0/0", "::/0"];
const AKS_AUDIT_CATEGORIES = ["kube-audit", "kube-audit-admin"];
const AKS_AUDIT_GROUPS = ["audit", "allLogs"];

/** The settings these policies read, the same for every kind of cluster. */
interface ClusterSettings {
    /** Secrets envelope-encrypted with a customer-managed key. */
    readonly secretsEncryption: boolean;
    /** EKS at Kubernetes 1.28 or later: all API data envelope-encrypted by default with an AWS owned key. */
    readonly defaultEnvelopeEncryption: boolean;
    /** Control-plane log types sent to the cloud's log service (EKS; AKS uses diagnostic settings). */
    readonly logTypes: string[] | undefined;
    /** Public API endpoint, and the ranges it admits (undefined: no public endpoint). */
    readonly publicCidrs: string[] | undefined;
}

/** EKS envelope-encrypts all Kubernetes API data by default from Kubernetes 1.28 on (an unknown version: no). */
function eksDefaultEnvelope(version: Json): boolean {
    const m = typeof version === "string" ? /^1\.(\d+)$/.exec(version) : null;
    return m !== null && Number(m[1]) >= 28;
}

/** Settings of a cluster resource, or undefined for an EKS component registered without inputs. */
function clusterSettings(type: string, props: Record<string, Json>): ClusterSettings | undefined {
    if (type === EKS_COMPONENT) {
        if (Object.keys(props).length === 0) return undefined;
        const publicAccess = props.endpointPublicAccess ?? true;
        return {
            // `in`, not a read: a key created in the same update is unknown during preview, yet named.
            secretsEncryption: "encryptionConfigKeyArn" in props,
            defaultEnvelopeEncryption: eksDefaultEnvelope(props.version),
            logTypes: asArray(props.enabledClusterLogTypes).map(String),
            publicCidrs: publicAccess
                ? props.publicAccessCidrs === undefined
                    ? ["0.0.0.0/0"]
                    : asArray(props.publicAccessCidrs).map(String)
                : undefined,
        };
    }
    if (type === EKS_CLUSTER) {
        const enc = asArray(
            props.encryptionConfig
                ? Array.isArray(props.encryptionConfig)
                    ? props.encryptionConfig
                    : [props.encryptionConfig]
                : [],
        );
        const vpc = isRecord(props.vpcConfig) ? props.vpcConfig : {};
        const publicAccess = vpc.endpointPublicAccess ?? true;
        return {
            secretsEncryption: enc.some(
                (e) => asArray(e?.resources).includes("secrets") && isRecord(e?.provider) && "keyArn" in e.provider,
            ),
            defaultEnvelopeEncryption: eksDefaultEnvelope(props.version),
            logTypes: asArray(props.enabledClusterLogTypes).map(String),
            publicCidrs: publicAccess
                ? vpc.publicAccessCidrs === undefined
                    ? ["0.0.0.0/0"]
                    : asArray(vpc.publicAccessCidrs).map(String)
                : undefined,
        };
    }
    if (type === AKS_CLUSTER) {
        const api = isRecord(props.apiServerAccessProfile) ? props.apiServerAccessProfile : {};
        const kms = props.securityProfile?.azureKeyVaultKms;
        return {
            secretsEncryption: isRecord(kms) && kms.enabled === true && "keyId" in kms,
            defaultEnvelopeEncryption: false,
            logTypes: undefined,
            publicCidrs:
                api.enablePrivateCluster === true
                    ? undefined
                    : api.authorizedIPRanges === undefined
                      ? ["0.0.0.0/0"]
                      : asArray(api.authorizedIPRanges).map(String),
        };
    }
    return undefined;
}

function settingsOrSkip(args: ResourceValidationArgs): ClusterSettings | undefined {
    if (!CLUSTER_TYPES.includes(args.type)) return undefined;
    const s = clusterSettings(args.type, args.props);
    if (!s) args.notApplicable("the eks component carries no inputs here; its aws:eks/cluster:Cluster is checked");
    return s;
}

export const clusterSecretsEncryption: ResourceValidationPolicy = {
    name: "cluster-secrets-encryption",
    description:
        "Kubernetes Secrets are envelope-encrypted with a customer-managed key (EKS encryptionConfig on secrets; AKS Key Vault KMS); outside production stacks EKS's default envelope encryption (Kubernetes 1.28 and later) is enough.",
    enforcementLevel: "mandatory",
    configSchema: PRODUCTION_CONFIG_SCHEMA,
    validateResource: (args, reportViolation) => {
        const s = settingsOrSkip(args);
        if (!s || s.secretsEncryption) return;
        const production = isProduction(args.urn, args.getConfig<{ productionStacks?: string[] }>());
        if (s.defaultEnvelopeEncryption && !production) return;
        reportViolation(
            `${args.type} ${args.name} does not encrypt Kubernetes Secrets with a customer-managed key (EKS: encryptionConfigKeyArn / encryptionConfig for "secrets", or aws.encryptionKeys: customer-managed; AKS: securityProfile.azureKeyVaultKms)${s.defaultEnvelopeEncryption ? "; EKS's default encryption with an AWS owned key is accepted outside production stacks only" : ""}.`,
        );
    },
};

/** Whether `r` has `ancestor` among its parents. */
function descendsFrom(r: PolicyResource, ancestor: PolicyResource): boolean {
    for (let p = r.parent; p; p = p.parent) if (p.urn === ancestor.urn) return true;
    return false;
}

/** Audit logs: EKS sends the "audit" control-plane log; AKS has a diagnostic setting that keeps kube-audit. */
function auditProblem(cluster: PolicyResource, resources: readonly PolicyResource[]): string | undefined {
    // After deployment a component's properties are its outputs, not its inputs: judge the cluster it created.
    if (cluster.type === EKS_COMPONENT && resources.some((r) => r.type === EKS_CLUSTER && descendsFrom(r, cluster)))
        return undefined;
    const s = clusterSettings(cluster.type, cluster.props);
    if (!s) return undefined;
    if (cluster.type === AKS_CLUSTER) {
        const settings = configuredBy(resources, cluster, AZURE_DIAGNOSTIC_SETTING, "resourceUri");
        const keeps = settings.some((d) =>
            asArray(d.props.logs).some(
                (l) =>
                    l?.enabled === true &&
                    (AKS_AUDIT_CATEGORIES.includes(l.category) || AKS_AUDIT_GROUPS.includes(l.categoryGroup)),
            ),
        );
        return keeps ? undefined : "has no diagnostic setting that keeps the kube-audit logs";
    }
    return s.logTypes?.includes("audit")
        ? undefined
        : `does not send the "audit" control-plane log (enabledClusterLogTypes: ${JSON.stringify(s.logTypes ?? [])})`;
}

export const clusterAuditLogging: StackValidationPolicy = {
    name: "cluster-audit-logging",
    description:
        "Kubernetes API audit logs are kept: EKS enables the audit control-plane log; AKS has a diagnostic setting for kube-audit.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        for (const r of args.resources) {
            if (!CLUSTER_TYPES.includes(r.type)) continue;
            const problem = auditProblem(r, args.resources);
            if (problem) reportViolation(`${r.type} ${r.name} ${problem}.`, r.urn);
        }
    },
};

export const clusterEndpointRestrictedInProduction: ResourceValidationPolicy = {
    name: "cluster-endpoint-restricted-in-production",
    description:
        "In production stacks the Kubernetes API is private, or public only to listed address ranges, never to 0.0.0.0/0.",
    enforcementLevel: "mandatory",
    configSchema: PRODUCTION_CONFIG_SCHEMA,
    validateResource: (args, reportViolation) => {
        const s = settingsOrSkip(args);
        if (!s || !isProduction(args.urn, args.getConfig<{ productionStacks?: string[] }>())) return;
        if (s.publicCidrs === undefined) return;
        if (s.publicCidrs.length === 0 || s.publicCidrs.some((c) => OPEN_CIDRS.includes(c))) {
            reportViolation(
                `${args.type} ${args.name} exposes the Kubernetes API to the whole internet in a production stack (${JSON.stringify(s.publicCidrs)}); make it private or list your address ranges (cluster.publicAccessCidrs).`,
            );
        }
    },
};

export const clusterPolicies = [clusterSecretsEncryption, clusterAuditLogging, clusterEndpointRestrictedInProduction];
