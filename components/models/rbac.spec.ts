/**
 * The deployer's rules in a model version's namespace (DEPLOYER_RULES), judged as the RBAC authorizer would: every
 * request the deploy step makes is allowed, and nothing else (test/api-steps.spec.ts records the step's real
 * requests against the plan's Roles).
 */
import * as assert from "node:assert/strict";
import { hasWildcard, rulesAllow, type ResourceRequest } from "../../test/rbac";
import { DEPLOYER_RULES } from "./rbac";

const req = (verb: string, apiGroup: string, resource: string, name: string, subresource = ""): ResourceRequest => ({
    verb,
    apiGroup,
    resource,
    name,
    subresource,
});

/** What deploy.py asks the API: its settings, then server-side apply of its three objects, then the rollout. */
const DEPLOY_STEP: readonly ResourceRequest[] = [
    req("get", "", "configmaps", "model-server-deploy"),
    ...(["patch", "create"] as const).flatMap((verb) => [
        req(verb, "apps", "deployments", "model-server"),
        req(verb, "autoscaling", "horizontalpodautoscalers", "model-server"),
        req(verb, "policy", "poddisruptionbudgets", "model-server"),
    ]),
    req("get", "apps", "deployments", "model-server"),
];

const REFUSED: readonly [string, ResourceRequest][] = [
    ["a Service (LoadBalancer, NodePort)", req("create", "", "services", "model-server")],
    ["its own settings rewritten", req("patch", "", "configmaps", "model-server-deploy")],
    ["another ConfigMap", req("get", "", "configmaps", "kube-root-ca.crt")],
    ["a Secret", req("get", "", "secrets", "model-server-store-credentials")],
    ["another Deployment", req("patch", "apps", "deployments", "other-app")],
    ["deleting the Deployment", req("delete", "apps", "deployments", "model-server")],
    ["listing Deployments", req("list", "apps", "deployments", "")],
    ["scaling through the subresource", req("patch", "apps", "deployments", "model-server", "scale")],
    ["reading the HPA of another name", req("patch", "autoscaling", "horizontalpodautoscalers", "other")],
    ["a StatefulSet of the same name", req("create", "apps", "statefulsets", "model-server")],
    ["exec into a pod", req("create", "", "pods", "model-server-abc", "exec")],
    ["a RoleBinding", req("create", "rbac.authorization.k8s.io", "rolebindings", "model-server")],
    ["the same resource in another API group", req("patch", "extensions", "deployments", "model-server")],
];

describe("the deployer's rules in a model version's namespace (DEPLOYER_RULES)", () => {
    for (const r of DEPLOY_STEP)
        it(`allow the deploy step: ${r.verb} ${r.apiGroup || "core"}/${r.resource}/${r.name}`, () => {
            assert.ok(rulesAllow(DEPLOYER_RULES, r));
        });

    for (const [what, r] of REFUSED)
        it(`refuse ${what}: ${r.verb} ${r.apiGroup || "core"}/${r.resource}${r.subresource ? `/${r.subresource}` : ""}/${r.name}`, () => {
            assert.ok(!rulesAllow(DEPLOYER_RULES, r));
        });

    it("grant nothing the step does not ask: no wildcard, every rule named, every verb used", () => {
        assert.ok(!hasWildcard(DEPLOYER_RULES));
        for (const rule of DEPLOYER_RULES) {
            assert.ok((rule.resourceNames ?? []).length > 0, `${rule.resources}: names its objects`);
            for (const group of rule.apiGroups ?? [])
                for (const resource of rule.resources ?? [])
                    for (const verb of rule.verbs)
                        for (const name of rule.resourceNames ?? [])
                            assert.ok(
                                DEPLOY_STEP.some(
                                    (r) =>
                                        r.apiGroup === group &&
                                        r.resource === resource &&
                                        r.verb === verb &&
                                        r.name === name,
                                ),
                                `${verb} ${group || "core"}/${resource}/${name} is granted but the step never asks it`,
                            );
        }
    });
});
