/**
 * The study's model gateway matches paths as the Gateway API does (tools/study/roles.ts): PathPrefix by whole path
 * elements, the longest match winning. With a plain string prefix, every request for `iris-b` matched the route of
 * `iris` (listed first), was rewritten to `/-b/predict` and failed at iris's server, and the study's traffic for the
 * other models never arrived (their live accuracy and error rate came out as no data).
 */
import * as assert from "node:assert/strict";
import { modelPathPrefix } from "../../components/models/model-routing";
import { pathMatchLength, routeRuleFor } from "./roles";

const prefix = (value: string) => ({ path: { type: "PathPrefix", value } });
const route = (name: string, ...matches: { path: { type: string; value: string } }[]) => ({
    spec: { rules: [{ name, matches }] },
});

describe("the study's gateway: Gateway API path matching", () => {
    it("matches a PathPrefix by whole path elements, ignoring the prefix's trailing slash", () => {
        assert.equal(pathMatchLength(prefix("/models/iris").path, "/models/iris/predict"), "/models/iris".length);
        assert.equal(pathMatchLength(prefix("/models/iris").path, "/models/iris"), "/models/iris".length);
        assert.equal(pathMatchLength(prefix("/models/iris/").path, "/models/iris/predict"), "/models/iris".length);
        assert.equal(pathMatchLength(prefix("/models/iris").path, "/models/iris-b/predict"), -1);
        assert.equal(pathMatchLength(prefix("/models/iris").path, "/models/irisb"), -1);
        assert.equal(pathMatchLength(prefix("/").path, "/anything"), 0);
        assert.equal(pathMatchLength(undefined, "/anything"), 0, "no path match: PathPrefix /");
    });

    it("matches an Exact path only as a whole", () => {
        const exact = { type: "Exact", value: "/models/iris/predict" };
        assert.equal(pathMatchLength(exact, "/models/iris/predict"), exact.value.length);
        assert.equal(pathMatchLength(exact, "/models/iris/predict/x"), -1);
    });

    it("sends each model's requests to its own route whatever the routes' order, the longest match winning", () => {
        const iris = route("iris", prefix(modelPathPrefix("iris")));
        const irisB = route("iris-b", prefix(modelPathPrefix("iris-b")));
        const fallback = route("fallback", prefix("/"));
        for (const routes of [
            [iris, irisB, fallback],
            [fallback, irisB, iris],
        ]) {
            assert.equal(routeRuleFor(routes, `${modelPathPrefix("iris-b")}/predict`)?.rule.name, "iris-b");
            assert.equal(routeRuleFor(routes, `${modelPathPrefix("iris")}/feedback`)?.rule.name, "iris");
            assert.equal(routeRuleFor(routes, "/models/iris-c/predict")?.rule.name, "fallback");
        }
        assert.equal(routeRuleFor([iris, irisB], "/models/iris-c/predict"), undefined);
        assert.equal(
            routeRuleFor([iris], `${modelPathPrefix("iris")}/predict`)?.matched,
            modelPathPrefix("iris").length,
        );
    });
});
