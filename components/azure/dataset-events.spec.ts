import * as path from "node:path";
import { assertPythonSuitePasses } from "../../test/python-suite";
import { EVENT_GRID_CONSUMER_SCRIPT } from "./dataset-events";

describe("Azure dataset-change consumer (event_grid.py)", () => {
    it("passes its Python tests: BlobCreated translated, queue messages decoded, other events ignored", () => {
        assertPythonSuitePasses(path.dirname(EVENT_GRID_CONSUMER_SCRIPT));
    });
});
