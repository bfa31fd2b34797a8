import type { TestbedConfig } from "../../infra/config";
import { type ConfigIssue, keyPath } from "../../infra/schema/issues";
import { AWS_GPU_FAMILIES, gpuFamilyOf, isInstanceTypeName } from "./instance-types";

/** AWS-specific configuration rules: they need the AWS tables, so they live with the AWS platform. */
export function validateAwsConfig(config: TestbedConfig): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    if (!config.aws) {
        issues.push({ key: keyPath(["aws"]), message: "is required when cloud is aws: set aws.region, e.g. { region: eu-west-1 }" });
    }
    const families = Object.keys(AWS_GPU_FAMILIES).join(", ");
    config.gpuNodePools.forEach((pool, pi) => {
        const arches = new Set<string>();
        pool.instanceTypes.forEach((t, ti) => {
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
                message: "mixes x86_64 and arm64 GPU families; a node group runs one AMI type, so split them into two pools",
                value: pool.instanceTypes,
            });
        }
    });
    config.cluster.systemNodes.instanceTypes.forEach((t, ti) => {
        if (!isInstanceTypeName(t)) {
            issues.push({ key: keyPath(["cluster", "systemNodes", "instanceTypes", ti]), message: "is not an EC2 instance type name such as m6i.large", value: t });
        }
    });
    return issues;
}
