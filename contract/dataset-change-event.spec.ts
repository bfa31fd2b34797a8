import { assertPythonSuitePasses } from "../test/python-suite";

describe("the listener's dataset-change event (contract/dataset_change_event.py)", () => {
    it("passes its Python tests: the fields the dataset trigger reads, times to UTC seconds", () => {
        assertPythonSuitePasses(__dirname);
    });
});
