import * as path from "node:path";
import { assertPythonSuitePasses } from "../../test/python-suite";
import { FILER_CONSUMER_SCRIPT } from "./dataset-events";

describe("SeaweedFS dataset-change consumer (seaweedfs_filer.py)", () => {
    it("passes its Python tests: new objects and versions translated, uploads, deletions and other buckets ignored", () => {
        assertPythonSuitePasses(path.dirname(FILER_CONSUMER_SCRIPT));
    });
});
