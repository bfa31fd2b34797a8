// Entry point of the policy pack: `pulumi preview --policy-pack policy`. Constructing the PolicyPack starts the
// analyzer server Pulumi talks to, so it happens here only; the policies live in ./policies and are run offline
// by policy/offline.ts (`npm run policy` and the tests).
import { PolicyPack } from "@pulumi/policy";
import { POLICIES } from "./policies";

new PolicyPack("mlops-testbed", {
    description:
        "Guardrails of the mlops-testbed program: stores, clusters, model-version namespaces, workloads, production protection and secrets.",
    enforcementLevel: "mandatory",
    policies: POLICIES,
});
