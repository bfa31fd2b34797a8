/**
 * tools/ts-checks.ts: ESLint's typed rules on a program built once (the type check's) still catch what they catch
 * when ESLint builds its own, and the key of a clean run covers every file the checks read.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import ts from "typescript";
import { CleanFiles } from "../tools/cache";
import { fileClosureKeys } from "../tools/file-closure-keys";
import { checkInputs, lint, lintUnlessClean, typeErrors } from "../tools/ts-checks";
import { PROJECT_ROOT } from "../tools/stack";

describe("TypeScript checks on one program", function () {
    this.timeout(120_000);
    let dir: string;
    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlops-ts-checks-"));
        fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("ESLint's typed and untyped rules report on the program they are given", async () => {
        const file = path.join(dir, "planted.ts");
        fs.writeFileSync(
            file,
            [
                'import * as pulumi from "@pulumi/pulumi";',
                "export function url(host: pulumi.Output<string>): string {",
                "    const unused = 1;",
                "    return `http://${host}/`;",
                "}",
                "",
            ].join("\n"),
        );
        const program = ts.createProgram([file], {
            // tsconfig.json's target and lib: the default lib adds the DOM's declarations (1.9 MB, about a second of
            // CPU to parse), which nothing here reads.
            target: ts.ScriptTarget.ES2022,
            lib: ["lib.es2022.d.ts"],
            strict: true,
            module: ts.ModuleKind.Node16,
            moduleResolution: ts.ModuleResolutionKind.Node16,
            types: [],
            skipLibCheck: true,
        });
        const { ruleIds } = await lint(program, dir, ["planted.ts"]);
        assert.deepEqual(ruleIds.sort(), [
            "@pulumi/no-output-in-template-literal",
            "@typescript-eslint/no-unused-vars",
        ]);
    });

    it("keys a clean run on every TypeScript file tsconfig.json checks and the configs", () => {
        const inputs = new Set(checkInputs());
        const config = ts.getParsedCommandLineOfConfigFile(
            path.join(PROJECT_ROOT, "tsconfig.json"),
            {},
            {
                ...ts.sys,
                onUnRecoverableConfigFileDiagnostic: () => undefined,
            },
        )!;
        const missing = config.fileNames
            .map((f) => path.relative(PROJECT_ROOT, f).split(path.sep).join("/"))
            .filter((f) => !inputs.has(f));
        assert.ok(config.fileNames.length > 100, "tsconfig.json lists the project's files");
        assert.deepEqual(missing, []);
        for (const f of ["eslint.config.mjs", "tsconfig.json", "package-lock.json", "policy/tsconfig.json"])
            assert.ok(inputs.has(f), f);
        // ESLint lints the scripts at the top level too: a problem put there alone must not be hidden by a clean key.
        for (const f of [".mocharc.cjs", "stryker.config.mjs", ".dependency-cruiser.cjs"]) assert.ok(inputs.has(f), f);
    });

    describe("per-file keys: a file is checked again when it or anything it depends on changed, and only then", () => {
        /** A planted project in a folder of its own: its files, and a program over them as tsconfig.json's. */
        const project = (files: Record<string, string>) => {
            const root = fs.mkdtempSync(path.join(dir, "project-"));
            fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules"), path.join(root, "node_modules"), "dir");
            const write = (changes: Record<string, string>) => {
                for (const [name, text] of Object.entries(changes)) fs.writeFileSync(path.join(root, name), text);
            };
            write(files);
            const program = () =>
                ts.createProgram(
                    fs
                        .readdirSync(root)
                        .filter((f) => f.endsWith(".ts"))
                        .map((f) => path.join(root, f)),
                    {
                        target: ts.ScriptTarget.ES2022,
                        lib: ["lib.es2022.d.ts"],
                        strict: true,
                        module: ts.ModuleKind.Node16,
                        moduleResolution: ts.ModuleResolutionKind.Node16,
                        resolveJsonModule: true,
                        esModuleInterop: true,
                        types: [],
                        skipLibCheck: true,
                        noEmit: true,
                    },
                );
            const keys = (p = program()) => fileClosureKeys(p, root, "env");
            // The clean keys kept as tools/ts-checks.ts keeps them, in a file of the planted project.
            const store = new CleanFiles(path.join(root, "clean-files.json"));
            return { root, write, program, keys, store };
        };
        const changed = (before: Map<string, string>, after: Map<string, string>) =>
            [...after.keys()].filter((f) => before.get(f) !== after.get(f)).sort();

        it("an edit changes the keys of the file and of what imports it, through any kind of import", () => {
            const p = project({
                "c.ts": "export const c = 1;\n",
                "b.ts": 'import { c } from "./c";\nexport const b = c;\n',
                "a.ts": 'export type B = typeof import("./b").b;\n',
                "d.ts": 'import data from "./data.json";\nexport const d = data.n;\n',
                "data.json": '{ "n": 1 }\n',
            });
            const before = p.keys();
            assert.deepEqual([...before.keys()].sort(), ["a.ts", "b.ts", "c.ts", "d.ts", "data.json"]);
            p.write({ "c.ts": "export const c = 2;\n" });
            assert.deepEqual(changed(before, p.keys()), ["a.ts", "b.ts", "c.ts"]);
            p.write({ "c.ts": "export const c = 1;\n" });
            assert.deepEqual(changed(before, p.keys()), [], "the same texts give the same keys");
            p.write({ "data.json": '{ "n": 2 }\n' });
            assert.deepEqual(changed(before, p.keys()), ["d.ts", "data.json"]);
        });

        it("a file declaring globals or augmenting a module is part of every file's key", () => {
            const p = project({ "a.ts": "export const a = 1;\n", "b.ts": "export const b = 2;\n" });
            const before = p.keys();
            // With module node16 and later every .ts file is a module: only a declaration file can be a script.
            p.write({ "g.d.ts": "declare const G: number;\n" });
            const withScript = p.keys();
            assert.deepEqual(changed(before, withScript), ["a.ts", "b.ts", "g.d.ts"]);
            p.write({ "g.d.ts": "declare const G: string;\n" });
            assert.deepEqual(changed(withScript, p.keys()), ["a.ts", "b.ts", "g.d.ts"]);
            fs.rmSync(path.join(p.root, "g.d.ts"));
            p.write({ "g.ts": "export {};\ndeclare global {\n    const G: number;\n}\n" });
            const withGlobal = p.keys();
            p.write({ "g.ts": "export {};\ndeclare global {\n    const G: boolean;\n}\n" });
            assert.deepEqual(changed(withGlobal, p.keys()), ["a.ts", "b.ts", "g.ts"]);
            p.write({ "m.ts": 'import "./a";\ndeclare module "./a" {\n    const m: number;\n}\n' });
            const withAugmentation = p.keys();
            p.write({ "m.ts": 'import "./a";\ndeclare module "./a" {\n    const m: string;\n}\n' });
            assert.deepEqual(changed(withAugmentation, p.keys()), ["a.ts", "b.ts", "g.ts", "m.ts"]);
        });

        it("the type check reports a type error an unchanged file gets from an edit to what it imports", () => {
            const p = project({
                "lib.ts": "export function size(): number {\n    return 1;\n}\n",
                "use.ts": 'import { size } from "./lib";\nexport const n: number = size();\n',
                "other.ts": "export const other = 1;\n",
            });
            let program = p.program();
            const first = typeErrors(program, [], p.keys(program), p.store.isCleanFor("typecheck"), p.root);
            assert.deepEqual(first.diagnostics, []);
            assert.equal(first.checked, 3);
            p.store.record("typecheck", first.clean!);

            p.write({ "lib.ts": 'export function size(): string {\n    return "1";\n}\n' });
            program = p.program();
            const second = typeErrors(program, [], p.keys(program), p.store.isCleanFor("typecheck"), p.root);
            assert.equal(second.checked, 2, "lib.ts and use.ts checked again, other.ts not");
            assert.deepEqual(
                second.diagnostics.map((d) => [path.basename(d.file!.fileName), d.code]),
                [["use.ts", 2322]],
            );
            assert.deepEqual([...second.clean!.keys()].sort(), ["lib.ts", "other.ts"], "use.ts is not clean");
        });

        it("ESLint reports a typed problem an unchanged file gets from an edit to what it imports", async () => {
            const p = project({
                "host.ts": 'export function host(): string {\n    return "h";\n}\n',
                "url.ts": 'import { host } from "./host";\nexport const url = `http://${host()}/`;\n',
                "other.ts": "export const other = 1;\n",
            });
            let program = p.program();
            const first = await lintUnlessClean(program, p.root, p.keys(program), p.store.isCleanFor("lint"));
            assert.equal(first.problems, 0, first.report);
            assert.equal(first.linted, 3);
            p.store.record("lint", first.clean);

            p.write({
                "host.ts": [
                    'import * as pulumi from "@pulumi/pulumi";',
                    "export function host(): pulumi.Output<string> {",
                    '    return pulumi.output("h");',
                    "}",
                    "",
                ].join("\n"),
            });
            program = p.program();
            const second = await lintUnlessClean(program, p.root, p.keys(program), p.store.isCleanFor("lint"));
            assert.equal(second.linted, 2, "host.ts and url.ts linted again, other.ts not");
            assert.equal(second.problems, 1, second.report);
            assert.match(second.report, /url\.ts[\s\S]*@pulumi\/no-output-in-template-literal/);
            assert.deepEqual([...second.clean.keys()].sort(), ["host.ts", "other.ts"], "url.ts is not clean");
        });
    });
});
