/**
 * What a plan leaves out of Pulumi's SDK (tools/mock-runtime.ts, withLightRuntime) changes nothing it reads: a
 * PlainStruct reads back as google-protobuf's Struct does, and everything swapped out is put back after a plan.
 */
import * as assert from "node:assert/strict";
import { createRequire } from "node:module";
import { plainStruct, runProgram } from "../tools/mock-runtime";

// google-protobuf as the SDK loads it: the copy whose Struct a plan replaces.
const sdkRequire = createRequire(require.resolve("@pulumi/pulumi"));
const { Struct } = sdkRequire(
    "google-protobuf/google/protobuf/struct_pb",
) as typeof import("google-protobuf/google/protobuf/struct_pb");
const debuggable = sdkRequire("./runtime/debuggable") as { debuggablePromise: unknown };
const { Resource } = sdkRequire("./resource") as { Resource: { callsites: unknown } };

/** Values with what a round trip through protobuf changes or refuses: key order, integer-like keys, nesting. */
const SAMPLES: Record<string, unknown>[] = [
    {},
    { z: 1, a: "x", m: null, b: false, "10": 1, "2": 2, "-1": 3, A: [] },
    { nested: { y: [1, { d: 4, c: [null, "s", true] }], x: {} }, list: [[], [[]], 0, -0, 1.5, -2] },
    { urn: "urn:pulumi:dev::mlops-testbed::kubernetes:core/v1:Namespace::n", "4dabf18193072939515e22adb298388d": "x" },
];

describe("mock runtime: what a plan leaves out of the SDK", () => {
    it("a PlainStruct reads back as google-protobuf's Struct does, key order included", () => {
        for (const value of SAMPLES) {
            const real = Struct.fromJavaScript(value as never);
            const plain = plainStruct(value);
            assert.equal(JSON.stringify(plain.toJavaScript()), JSON.stringify(real.toJavaScript()));
            assert.deepStrictEqual(plain.toJavaScript(), real.toJavaScript());
            // Its protobuf fields, built when asked for, serialise to the same bytes.
            assert.deepStrictEqual(plain.serializeBinary(), real.serializeBinary());
        }
    });

    it("each read is a copy of its own", () => {
        const plain = plainStruct({ a: { b: [1] } });
        (plain.toJavaScript().a as { b: number[] }).b.push(2);
        assert.deepStrictEqual(plain.toJavaScript(), { a: { b: [1] } });
    });

    it("refuses the values a Struct refuses", () => {
        for (const bad of [{ a: undefined }, { a: () => 1 }, { a: [undefined] }, { a: 1n }])
            assert.throws(() => plainStruct(bad), /Unexpected struct type/);
        for (const bad of [{ a: undefined }, { a: () => 1 }])
            assert.throws(() => Struct.fromJavaScript(bad as never), /Unexpected struct type/);
    });

    it("puts back what it swapped out once a plan ends", async () => {
        const before = {
            limit: Error.stackTraceLimit,
            fromJavaScript: Struct.fromJavaScript,
            debuggablePromise: debuggable.debuggablePromise,
            callsites: Resource.callsites,
        };
        let during: typeof before | undefined;
        await runProgram(
            async () => {
                during = {
                    limit: Error.stackTraceLimit,
                    fromJavaScript: Struct.fromJavaScript,
                    debuggablePromise: debuggable.debuggablePromise,
                    callsites: Resource.callsites,
                };
                return {};
            },
            { project: "mlops-testbed", stack: "example", config: {} },
        );
        assert.equal(during?.limit, 0);
        assert.notEqual(during?.fromJavaScript, before.fromJavaScript, "a plan uses PlainStruct");
        assert.notEqual(during?.debuggablePromise, before.debuggablePromise);
        assert.notEqual(during?.callsites, before.callsites);
        assert.deepStrictEqual(
            {
                limit: Error.stackTraceLimit,
                fromJavaScript: Struct.fromJavaScript,
                debuggablePromise: debuggable.debuggablePromise,
                callsites: Resource.callsites,
            },
            before,
        );
    });
});
