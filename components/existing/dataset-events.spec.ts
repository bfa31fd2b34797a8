import * as path from "node:path";
import { assertUnittestPasses } from "../../test/python";
import { FILER_CONSUMER_SCRIPT } from "./dataset-events";

/** The contract's helper the script imports by name (the ConfigMap ships it beside the script). */
const CONTRACT = path.join(__dirname, "..", "..", "contract");

describe("SeaweedFS dataset-change consumer (seaweedfs_filer.py)", () => {
    it("passes its Python tests: new objects and versions translated, uploads, deletions and other buckets ignored", () => {
        assertUnittestPasses(path.dirname(FILER_CONSUMER_SCRIPT), [CONTRACT]);
    });
});
