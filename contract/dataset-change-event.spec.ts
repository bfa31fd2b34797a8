import { assertUnittestPasses } from "../test/python";

describe("the listener's dataset-change event (contract/dataset_change_event.py)", () => {
    it("passes its Python tests: the fields the dataset trigger reads, times to UTC seconds", () => {
        assertUnittestPasses(__dirname);
    });
});
