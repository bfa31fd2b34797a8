/**
 * The study's CEL interceptor (tools/study/cel.ts) on its own: the variables Tekton declares with the defaults a
 * request without them gets, errors prefixed "cel:" with the library's error kept as the cause, and a filter refused
 * unless it can yield bool. pipelines/triggers/triggers.spec.ts runs the real filters through it (with Python and
 * tekton-lint, too slow for mutation testing).
 */
import * as assert from "node:assert/strict";
import { checkCel, evalCel } from "./cel";

const env = { body: { a: { b: "xyz" }, flag: true }, header: { "X-A": ["1"] } };

describe("study: the CEL interceptor", () => {
    it("gives a request without them the URL / and no extensions, and keeps those a request has", () => {
        assert.equal(evalCel("requestURL == '/'", env), true);
        assert.equal(evalCel("size(extensions) == 0", env), true);
        assert.equal(evalCel("body.a.b + requestURL", { ...env, requestURL: "/hooks/git" }), "xyz/hooks/git");
        assert.equal(evalCel("extensions.kind == 'push'", { ...env, extensions: { kind: "push" } }), true);
        assert.equal(evalCel("header['X-A'][0] == '1' && body.flag", env), true);
    });

    it("prefixes an evaluation error with cel: and keeps the library's error as its cause", () => {
        assert.throws(
            () => evalCel("body.nope == 1", env),
            (e: Error) => {
                assert.match(e.message, /^cel: No such key: nope/);
                assert.ok(e.cause instanceof Error);
                assert.equal(e.message, `cel: ${(e.cause as Error).message}`);
                return true;
            },
        );
    });

    it("accepts a filter that yields bool, or dyn that may be bool (a field of the body)", () => {
        assert.doesNotThrow(() => checkCel("body.a.b.startsWith('xy') && 'X-A' in header"));
        assert.doesNotThrow(() => checkCel("body.flag"));
    });

    it("refuses a filter that does not type-check, naming why, or that yields another type", () => {
        assert.throws(() => checkCel("headers.size() > 0"), /^Error: cel: Unknown variable: headers/);
        assert.throws(() => checkCel("1 +"), /^Error: cel: Unexpected token: EOF/);
        assert.throws(() => checkCel("size(body) + 1"), /^Error: cel: a filter must yield bool, not int$/);
        assert.throws(() => checkCel("requestURL"), /^Error: cel: a filter must yield bool, not string$/);
    });
});
