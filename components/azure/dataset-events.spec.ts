import * as path from "node:path";
import { assertUnittestPasses } from "../../test/python";
import { EVENT_GRID_CONSUMER_SCRIPT } from "./dataset-events";

/** The contract's helper the script imports by name (the ConfigMap ships it beside the script). */
const CONTRACT = path.join(__dirname, "..", "..", "contract");

describe("Azure dataset-change consumer (event_grid.py)", () => {
    it("passes its Python tests: BlobCreated translated, queue messages decoded, other events ignored", () => {
        assertUnittestPasses(path.dirname(EVENT_GRID_CONSUMER_SCRIPT), [CONTRACT]);
    });
});
