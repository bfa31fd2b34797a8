import { type ConfigIssue, keyPath, rawArray as asArray, rawRecord as asRecord } from "../../contract/config/issues";
import { CLUSTER_AUTOSCALER_IMAGE_TAGS } from "../../contract/versions";
import {
    AWS_GPU_FAMILIES,
    AWS_SYSTEM_FAMILIES,
    gpuFamilyOf,
    isInstanceTypeName,
    systemArchesOf,
    systemFamilyOf,
} from "./instance-types";

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
    issues.push(...systemNodeIssues(asRecord(asRecord(raw.cluster).systemNodes)));
    // System nodes and GPU pools may run different architectures (arm64 system nodes beside x86_64 GPU pools): the
    // build-image Task publishes model-server images for linux/amd64 and linux/arm64 as one manifest list, so a
    // model built on either runs on both. What still cannot work is one node group of two architectures (one AMI
    // type per group), refused above for GPU pools and in systemNodeIssues for the system group.
    return issues;
}

/** Minimum instance types of a spot system group: one type's spot pool running dry must not stop the group. */
export const MIN_SPOT_SYSTEM_TYPES = 2;

/** The system node group's rules: known families of one architecture, and enough types for spot. */
function systemNodeIssues(systemNodes: Record<string, unknown>): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    const families = Object.keys(AWS_SYSTEM_FAMILIES).join(", ");
    const types = asArray(systemNodes.instanceTypes);
    types.forEach((t, ti) => {
        if (typeof t !== "string") return; // the schema reports the type error
        const key = keyPath(["cluster", "systemNodes", "instanceTypes", ti]);
        if (!isInstanceTypeName(t)) {
            issues.push({ key, message: "is not an EC2 instance type name such as m6i.large", value: t });
        } else if (!systemFamilyOf(t)) {
            issues.push({
                key,
                message: `is not of a system node family the testbed knows the architecture of; use one of ${families} (e.g. m6i.large, t4g.medium)`,
                value: t,
            });
        }
    });
    const strings = types.filter((t): t is string => typeof t === "string");
    if (systemArchesOf(strings).length > 1) {
        issues.push({
            key: keyPath(["cluster", "systemNodes", "instanceTypes"]),
            message:
                "mixes x86_64 and arm64 families; a node group runs one AMI type, so give types of one architecture",
            value: types,
        });
    }
    if (systemNodes.capacityType === "spot" && types.length > 0 && types.length < MIN_SPOT_SYSTEM_TYPES) {
        issues.push({
            key: keyPath(["cluster", "systemNodes", "instanceTypes"]),
            message: `needs at least ${MIN_SPOT_SYSTEM_TYPES} instance types when capacityType is spot, so one type's spot capacity running out does not stop the group (e.g. [t4g.medium, m6g.medium])`,
            value: types,
        });
    }
    return issues;
}
