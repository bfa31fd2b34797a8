import type { Policies } from "@pulumi/policy";
import { clusterPolicies } from "./cluster";
import { keyRotation } from "./key-rotation";
import { modelNamespacePolicies } from "./model-namespaces";
import { podsMeetNamespacePodSecurity } from "./pod-security";
import { noPlaintextSecrets } from "./secrets";
import { productionStatefulProtected } from "./stateful";
import { storagePolicies } from "./storage";
import { workloadPolicies } from "./workloads";

/** Every policy of the pack, in the order docs/policy-pack.md lists them. All are mandatory. */
export const POLICIES: Policies = [
    ...storagePolicies,
    ...clusterPolicies,
    keyRotation,
    ...modelNamespacePolicies,
    ...workloadPolicies,
    podsMeetNamespacePodSecurity,
    productionStatefulProtected,
    noPlaintextSecrets,
];
