import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { configSchema } from "../infra/config";
import { OUTPUT_KEYS } from "../infra/outputs";
import { PROJECT_ROOT } from "../tools/stack";

const readme = fs.readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8");
const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };

/** Rows `| `key` | ...` of the README table under a heading. */
function tableKeys(heading: string): string[] {
    const start = readme.indexOf(`## ${heading}`);
    assert.ok(start >= 0, `README has a "## ${heading}" section`);
    const end = readme.indexOf("\n## ", start + 1);
    const section = readme.slice(start, end < 0 ? undefined : end);
    return [...section.matchAll(/^\| `([A-Za-z]+)` \|/gm)].map((m) => m[1]);
}

describe("README stays true", () => {
    it("starts with the two newcomer commands", () => {
        const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
        const commands = firstBlock.split("\n").map((l) => l.replace(/#.*$/, "").trim()).filter(Boolean);
        assert.deepEqual(commands, ["bash tools/install-debian-packages.sh && npm ci && npm run plan", "npm test"]);
    });

    it("documents exactly the top-level config keys", () => {
        assert.deepEqual(tableKeys("Configuration").sort(), Object.keys(configSchema.shape).sort());
    });

    it("documents exactly the stack outputs, in order", () => {
        assert.deepEqual(tableKeys("Stack outputs"), [...OUTPUT_KEYS]);
    });

    it("names only npm scripts that exist", () => {
        const named = [...readme.matchAll(/npm run ([a-z:-]+)/g)].map((m) => m[1]);
        assert.ok(named.length > 0);
        for (const s of named) assert.ok(pkg.scripts[s], `npm run ${s} is in the README but not in package.json`);
    });

    it(".ci/run runs exactly the README's test command", () => {
        const ci = fs.readFileSync(path.join(PROJECT_ROOT, ".ci/run"), "utf8");
        assert.match(ci, /^npm test$/m);
        assert.match(ci, /^\s*npm ci\b/m);
        assert.match(ci, /^bash tools\/install-debian-packages\.sh$/m, "CI installs what the README's first command installs");
    });
});
