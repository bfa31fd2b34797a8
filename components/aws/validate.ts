import { type ConfigIssue, keyPath, rawArray as asArray, rawRecord as asRecord } from "../../contract/config/issues";
import { CLUSTER_AUTOSCALER_IMAGE_TAGS } from "../../contract/versions";
import { AWS_GPU_FAMILIES, gpuFamilyOf, isInstanceTypeName } from "./instance-types";

/**
 * AWS-specific configuration rules. They read the raw config defensively, so they run (and report) even when
 * other keys fail the schema: the user sees every problem in one pass.
 */
export function validateAwsConfig(raw: Record<string, unknown>): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    if (raw.aws === undefined) {
        issues.push({
            key: keyPath(["aws"]),
            message: "is required when cloud is aws: set aws.region, e.g. { region: eu-west-1 }",
        });
    }
    const families = Object.keys(AWS_GPU_FAMILIES).join(", ");
    asArray(raw.gpuNodePools).forEach((poolValue, pi) => {
        const types = asArray(asRecord(poolValue).instanceTypes);
        const arches = new Set<string>();
        types.forEach((t, ti) => {
            if (typeof t !== "string") return; // the schema reports the type error
            const family = gpuFamilyOf(t);
            if (!family) {
                issues.push({
                    key: keyPath(["gpuNodePools", pi, "instanceTypes", ti]),
                    message: `is not a GPU instance type; a GPU pool takes types of the families ${families} (e.g. g5.xlarge)`,
                    value: t,
                });
            } else {
                arches.add(AWS_GPU_FAMILIES[family].arch);
            }
        });
        if (arches.size > 1) {
            issues.push({
                key: keyPath(["gpuNodePools", pi, "instanceTypes"]),
                message:
                    "mixes x86_64 and arm64 GPU families; a node group runs one AMI type, so split them into two pools",
                value: types,
            });
        }
    });
    const version = asRecord(raw.cluster).kubernetesVersion;
    // The schema checks the format; on EKS the version must also be one the pinned cluster-autoscaler images cover.
    if (typeof version === "string" && /^1\.\d+$/.test(version) && !(version in CLUSTER_AUTOSCALER_IMAGE_TAGS)) {
        issues.push({
            key: keyPath(["cluster", "kubernetesVersion"]),
            message: `has no pinned cluster-autoscaler image on EKS; use one of ${Object.keys(
                CLUSTER_AUTOSCALER_IMAGE_TAGS,
            )
                .map((v) => `"${v}"`)
                .join(", ")}`,
            value: version,
        });
    }
    asArray(asRecord(asRecord(raw.cluster).systemNodes).instanceTypes).forEach((t, ti) => {
        if (typeof t === "string" && !isInstanceTypeName(t)) {
            issues.push({
                key: keyPath(["cluster", "systemNodes", "instanceTypes", ti]),
                message: "is not an EC2 instance type name such as m6i.large",
                value: t,
            });
        }
    });
    return issues;
}
