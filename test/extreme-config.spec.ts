/**
 * A well-formed extreme configuration plans: the dev stack with 50 models of 10 versions (500 isolated
 * namespaces, every traffic strategy), and the policy pack finds nothing in it. The slowest spec: about 9,000
 * resources go through Pulumi's runtime.
 */
import * as assert from "node:assert/strict";
import { checkPlan, formatViolations } from "../policy/offline";
import type { Plan } from "../tools/mock-runtime";
import { planStack, resourcesOfType } from "./harness";
import { extremeModels, extremeOverrides } from "./model-fixtures";
import type { Json } from "./json";

describe("extreme but well-formed configuration plans: 50 models × 10 versions", function () {
    this.timeout(600_000);
    let plan: Plan;
    before(async () => {
        plan = await planStack("dev", extremeOverrides(extremeModels(50, 10)));
    });

    it("creates 500 model-version namespaces and 50 model routes", () => {
        const namespaces = resourcesOfType(plan, "kubernetes:core/v1:Namespace").filter(
            (r) => (r.inputs.metadata as Json)?.labels?.["mlops-testbed/model"],
        );
        assert.equal(namespaces.length, 500);
        assert.equal(new Set(namespaces.map((r) => (r.inputs.metadata as Json).name)).size, 500);
        const modelRoutes = resourcesOfType(plan, "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute").filter(
            (r) => (r.inputs.metadata as Json)?.labels?.["mlops-testbed/model"],
        );
        assert.equal(modelRoutes.length, 50);
        assert.equal(Object.keys(plan.outputs.modelNamespaces as object).length, 50);
    });

    it("passes the policy pack", async () => {
        const run = await checkPlan(plan);
        assert.deepEqual(run.violations, [], formatViolations(run.violations.slice(0, 20)));
    });
});
