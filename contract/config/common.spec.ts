import * as assert from "node:assert/strict";
import { quantityMilli } from "./common";

describe("config building blocks (contract/config/common.ts): quantities in thousandths", () => {
    it("reads whole, decimal and suffixed quantities in thousandths of their unit", () => {
        assert.equal(quantityMilli("4"), 4000);
        assert.equal(quantityMilli("250m"), 250);
        assert.equal(quantityMilli("0.5"), 500);
        assert.equal(quantityMilli("1.25"), 1250);
        assert.equal(quantityMilli("2k"), 2000000);
        assert.equal(quantityMilli("512Mi"), 536870912000);
    });

    it("refuses text around a quantity, naming the value", () => {
        for (const q of ["x5", "5Gx", "1.", "Gi", ""])
            assert.throws(() => quantityMilli(q), { name: "Error", message: `not a Kubernetes quantity: ${q}` }, q);
    });
});
