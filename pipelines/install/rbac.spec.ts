/**
 * The rules of the deployer in the gateway namespace (routeUpdaterRules) and of the run pruner (PRUNER_RULES),
 * judged as the RBAC authorizer would: what their steps ask is allowed, nothing else.
 */
import * as assert from "node:assert/strict";
import { hasWildcard, rulesAllow, type ResourceRequest } from "../../test/rbac";
import { PRUNER_RULES, routeUpdaterRules } from "./rbac";

const route = (verb: string, name: string): ResourceRequest => ({
    verb,
    apiGroup: "gateway.networking.k8s.io",
    resource: "httproutes",
    name,
});

describe("the deployer's rules in the gateway namespace (routeUpdaterRules)", () => {
    const names = ["models-iris", "models-digits"];
    // Built in each test, not once here: a mutant of the builder is active only while the tests run.
    const rules = () => routeUpdaterRules(names);

    it("read and patch (weights) each model's route by name", () => {
        for (const name of names)
            for (const verb of ["get", "patch"]) assert.ok(rulesAllow(rules(), route(verb, name)), `${verb} ${name}`);
    });

    it("nothing else: not the webhook route, no list, no create or delete, no other kind", () => {
        for (const r of [
            route("patch", "git-webhook"),
            route("get", "git-webhook"),
            route("list", ""),
            route("create", "models-iris"),
            route("delete", "models-iris"),
            route("update", "models-iris"),
            { ...route("patch", "models-iris"), resource: "gateways" },
            { ...route("patch", "models-iris"), apiGroup: "" },
            { ...route("patch", "models-iris"), subresource: "status" },
        ])
            assert.ok(
                !rulesAllow(rules(), r),
                `${r.verb} ${r.resource}${r.subresource ? `/${r.subresource}` : ""} ${r.name}`,
            );
        assert.ok(!hasWildcard(rules()));
    });

    it("one rule with the names sorted, the caller's list untouched; no models, no rule (never an empty name list)", () => {
        assert.deepEqual(
            rules().map((r) => r.resourceNames),
            [["models-digits", "models-iris"]],
        );
        assert.deepEqual(names, ["models-iris", "models-digits"]);
        assert.deepEqual(routeUpdaterRules([]), []);
        assert.ok(!rulesAllow(routeUpdaterRules([]), route("get", "models-iris")));
    });
});

describe("the run pruner's rules (PRUNER_RULES)", () => {
    const run = (verb: string, name = "", resource = "pipelineruns", apiGroup = "tekton.dev"): ResourceRequest => ({
        verb,
        apiGroup,
        resource,
        name,
    });

    it("list PipelineRuns and delete old ones", () => {
        assert.ok(rulesAllow(PRUNER_RULES, run("list")));
        assert.ok(rulesAllow(PRUNER_RULES, run("delete", "train-and-deploy-x1")));
    });

    it("nothing else: no create, patch or get of runs, no TaskRuns, no Pipelines, no wildcard", () => {
        for (const r of [
            run("create", "x"),
            run("patch", "x"),
            run("get", "x"),
            run("delete", "x", "taskruns"),
            run("delete", "train", "pipelines"),
            run("delete", "x", "pipelineruns", "tekton.dev.evil"),
            run("delete", "x", "pods", ""),
        ])
            assert.ok(!rulesAllow(PRUNER_RULES, r), `${r.verb} ${r.apiGroup}/${r.resource}`);
        assert.ok(!hasWildcard(PRUNER_RULES));
    });
});
