/**
 * Folder imports point one way: the rules of .dependency-cruiser.cjs hold for every source file, no two directories
 * import each other, and the README's table of directions says what the rules say.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PROJECT_ROOT } from "../tools/stack";

interface Rule {
    name: string;
    from: { path?: string; pathNot?: string | string[] };
    to: { path?: string; pathNot?: string | string[] };
}
interface Config {
    forbidden: Rule[];
    options: Record<string, unknown>;
}
interface Module {
    source: string;
    dependencies: { resolved: string; coreModule: boolean; couldNotResolve: boolean }[];
}
interface CruiseResult {
    output: {
        modules: Module[];
        summary: { violations: { from: string; to: string; rule: { name: string } }[]; error: number };
    };
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const CONFIG = require(path.join(PROJECT_ROOT, ".dependency-cruiser.cjs")) as Config;
const SOURCES = ["contract", "infra", "components", "monitoring", "pipelines", "policy", "tools", "test"];

/**
 * The script that cruises: dependency-cruiser (an ES module) imported once, then each job's `roots` cruised in its
 * `baseDir` (its tsConfig and rule paths are relative to where it runs); the outputs as JSON on stdout.
 */
const CRUISE_SCRIPT = `
const { cruise } = await import("dependency-cruiser");
const { jobs, options } = JSON.parse(process.argv[1]);
const outputs = [];
for (const { roots, baseDir } of jobs) {
    process.chdir(baseDir);
    outputs.push((await cruise(roots, options)).output);
}
process.stdout.write(JSON.stringify(outputs));
`;

/**
 * Runs dependency-cruiser over each job's `roots` under its `baseDir` with the project's rules, as `npm run imports`
 * runs it: in a Node process of its own, without tsx's loader hooks, which cost about 1 s of CPU more in this one
 * (tsx scans every CommonJS file loaded, the TypeScript compiler's 9 MB among them, for ES module syntax).
 */
function cruise(jobs: readonly { roots: string[]; baseDir: string }[]): CruiseResult[] {
    const run = spawnSync(
        process.execPath,
        [
            "--input-type=module",
            "-e",
            CRUISE_SCRIPT,
            JSON.stringify({
                jobs,
                options: { ...CONFIG.options, validate: true, ruleSet: { forbidden: CONFIG.forbidden } },
            }),
        ],
        {
            cwd: PROJECT_ROOT, // where the script's import finds dependency-cruiser
            encoding: "utf8",
            maxBuffer: 256 * 1024 * 1024,
            env: { ...process.env, NODE_OPTIONS: "" },
        },
    );
    assert.equal(run.status, 0, `dependency-cruiser failed:\n${run.stderr}`);
    return (JSON.parse(run.stdout) as CruiseResult["output"][]).map((output) => ({ output }));
}

/** Each domain's rule: the domain (its `from` path) and the domains it may import (its `to.pathNot` but itself). */
function directionsOfRules(): Map<string, string[]> {
    const domain = (re: string) => re.replace(/^\^/, "").replace(/\/$/, "").replace(/\\/g, "").replace(/\/$/, "");
    const out = new Map<string, string[]>();
    for (const rule of CONFIG.forbidden.filter((r) => r.name.endsWith("-imports"))) {
        const self = domain(rule.from.path!);
        const allowed = ([] as string[]).concat(rule.to.pathNot ?? []).map(domain);
        out.set(self, allowed.filter((d) => d !== self).sort());
    }
    return out;
}

describe("folder imports point one way", function () {
    this.timeout(60_000);
    let result: CruiseResult;
    let probe: CruiseResult;
    let probeDir: string;
    before(() => {
        // A tree of four domains with one import against the directions in each of two of them, and some along them.
        probeDir = fs.mkdtempSync(path.join(os.tmpdir(), "imports-"));
        const write = (file: string, text: string) => {
            fs.mkdirSync(path.dirname(path.join(probeDir, file)), { recursive: true });
            fs.writeFileSync(path.join(probeDir, file), text);
        };
        fs.copyFileSync(path.join(PROJECT_ROOT, "tsconfig.json"), path.join(probeDir, "tsconfig.json"));
        write("contract/names.ts", 'import { x } from "../infra/config";\nexport const y = x;\n');
        write("infra/config.ts", 'import { z } from "../contract/other";\nexport const x = z;\n');
        write("contract/other.ts", "export const z = 1;\n");
        write("monitoring/stack.ts", 'import { y } from "../components/aws/platform";\nexport const w = y;\n');
        write("components/aws/platform.ts", 'import { z } from "../../contract/other";\nexport const y = z;\n');
        [result, probe] = cruise([
            { roots: SOURCES, baseDir: PROJECT_ROOT },
            { roots: ["contract", "infra", "monitoring", "components"], baseDir: probeDir },
        ]);
    });
    after(() => fs.rmSync(probeDir, { recursive: true, force: true }));

    it("every source file keeps to the allowed directions (dependency-cruiser, .dependency-cruiser.cjs)", () => {
        assert.ok(result.output.modules.length > 150, "the cruise found the sources");
        const violations = result.output.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`);
        assert.deepEqual(violations, []);
    });

    it("no two directories import each other (specs aside)", () => {
        const edges = new Set<string>();
        for (const m of result.output.modules) {
            if (m.source.endsWith(".spec.ts")) continue;
            for (const d of m.dependencies) {
                if (d.coreModule || d.couldNotResolve || d.resolved.includes("node_modules")) continue;
                const [from, to] = [path.dirname(m.source), path.dirname(d.resolved)];
                if (from !== to) edges.add(`${from} -> ${to}`);
            }
        }
        assert.ok(edges.has("infra -> contract"), "the graph has directory edges");
        const twoWay = [...edges].filter((e) => {
            const [a, b] = e.split(" -> ");
            return a < b && edges.has(`${b} -> ${a}`);
        });
        assert.deepEqual(twoWay, []);
    });

    it("the rules refuse an import against the directions and allow one along them", () => {
        const found = probe.output.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`).sort();
        assert.deepEqual(found, [
            "contract-imports: contract/names.ts -> infra/config.ts",
            "monitoring-imports: monitoring/stack.ts -> components/aws/platform.ts",
        ]);
    });

    it("the README's table of directions says what the rules say", () => {
        const readme = fs.readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8");
        const table = readme.split("<!-- import directions: checked against .dependency-cruiser.cjs -->")[1];
        assert.ok(table, "the README has the table of import directions");
        const rows = [...table.split("\n\n")[0].matchAll(/^\| (.+?) \| (.+?) \|$/gm)].filter((m) => m[1] !== "folder");
        const rules = directionsOfRules();
        const allDomains = [...rules.keys()];
        const documented = new Map<string, string[]>();
        for (const [, folders, allowed] of rows) {
            const names = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
            for (const folder of names(folders)) {
                const list = allowed.startsWith("everything but")
                    ? allDomains.filter((d) => d !== folder && !names(allowed).includes(d))
                    : allowed === "everything"
                      ? allDomains.filter((d) => d !== folder)
                      : allowed.includes("every `components/*`")
                        ? [...names(allowed), ...allDomains.filter((d) => d.startsWith("components/"))].filter(
                              (d) => d !== "components/*",
                          )
                        : names(allowed);
                documented.set(folder, [...new Set(list)].sort());
            }
        }
        assert.deepEqual(new Map([...documented].sort()), new Map([...rules].sort()));
    });
});
