import * as assert from "node:assert/strict";
import { keyPath, rawArray, rawRecord } from "./issues";

describe("config issues (contract/config/issues.ts): key paths and the defensive readers", () => {
    it("writes key paths as users do: the namespace, then keys with dots and indexes in brackets", () => {
        assert.equal(keyPath(["gpuNodePools", 0, "maxSize"]), "mlops-testbed:gpuNodePools[0].maxSize");
        assert.equal(keyPath([]), "mlops-testbed");
    });

    it("reads anything but a map as an empty record: null, false, 0, text and lists", () => {
        for (const v of [null, undefined, false, 0, "", "kind: external", 5, ["a"]])
            assert.deepEqual(rawRecord(v), {}, JSON.stringify(v));
        const map = { kind: "external" };
        assert.equal(rawRecord(map), map);
    });

    it("reads anything but a list as an empty list", () => {
        for (const v of [null, undefined, "a,b", { 0: "a", length: 1 }]) assert.deepEqual(rawArray(v), [], String(v));
        const list = ["a"];
        assert.equal(rawArray(list), list);
    });
});
