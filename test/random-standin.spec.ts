/**
 * The engine tier's stand-in random provider (tools/engine/random-provider) against what it stands in for: its
 * schema subset agrees with the @pulumi/random SDK's types and secret outputs in node_modules, and it behaves as the
 * upstream provider does where the program can tell: defaults, validation, character classes, replacement on any
 * input change, `result` a secret of RandomPassword only.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import ts from "typescript";
import { PROJECT_ROOT } from "../tools/stack";
import {
    INPUT_DEFAULTS,
    RANDOM_INPUTS,
    RANDOM_RESOURCES,
    REQUIRED_INPUTS,
    schemaJson,
    type SchemaType,
} from "../tools/engine/random-provider/schema";
import {
    STANDIN_VERSION,
    changedInputs,
    checkInputs,
    generate,
    randomProvider,
} from "../tools/engine/random-provider/provider";

const SDK_DIR = path.join(PROJECT_ROOT, "node_modules/@pulumi/random");

/** Members of an interface or class in a .d.ts: name, optional, and the type text. */
function members(file: string, name: string): Map<string, { optional: boolean; type: string }> {
    const src = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
    const out = new Map<string, { optional: boolean; type: string }>();
    const visit = (node: ts.Node) => {
        if ((ts.isInterfaceDeclaration(node) || ts.isClassDeclaration(node)) && node.name?.text === name) {
            for (const m of node.members) {
                if (!(ts.isPropertySignature(m) || ts.isPropertyDeclaration(m)) || !m.type) continue;
                const mods = ts.getModifiers(m as ts.HasModifiers) ?? [];
                if (mods.some((x) => x.kind === ts.SyntaxKind.StaticKeyword)) continue;
                out.set(m.name.getText(src), { optional: !!m.questionToken, type: m.type.getText(src) });
            }
        }
        ts.forEachChild(node, visit);
    };
    visit(src);
    if (out.size === 0) throw new Error(`${name} not found in ${file}`);
    return out;
}

/** The TypeScript type the SDK generates for a schema type. */
const SDK_TYPE: Record<SchemaType, RegExp> = {
    integer: /\bnumber\b/,
    boolean: /\bboolean\b/,
    string: /\bstring\b/,
    object: /\[key: string\]: (pulumi\.Input<)?string/,
};

describe("stand-in random provider: schema subset against the @pulumi/random SDK", () => {
    const sdkVersion = (JSON.parse(fs.readFileSync(path.join(SDK_DIR, "package.json"), "utf8")) as { version: string })
        .version;

    it("reports the SDK's version with build metadata naming the stand-in", () => {
        assert.equal(STANDIN_VERSION, `${sdkVersion}+mlops-testbed-standin`);
    });

    for (const [token, r] of Object.entries(RANDOM_RESOURCES)) {
        const cls = token.split(":").pop()!;
        const file = path.join(SDK_DIR, r.sdkFile);

        it(`${cls}: the inputs are exactly the SDK's Args, with its types and required keys`, () => {
            const args = members(file, `${cls}Args`);
            assert.deepEqual([...args.keys()].sort(), Object.keys(RANDOM_INPUTS).sort());
            for (const [k, t] of Object.entries(RANDOM_INPUTS))
                assert.match(args.get(k)!.type, SDK_TYPE[t], `${cls}Args.${k}: ${args.get(k)!.type}`);
            const required = [...args.entries()].filter(([, m]) => !m.optional).map(([k]) => k);
            assert.deepEqual(required.sort(), [...REQUIRED_INPUTS].sort());
        });

        it(`${cls}: the outputs are exactly the SDK class's properties, with its types`, () => {
            const props = members(file, cls);
            const ours: Record<string, SchemaType> = { ...RANDOM_INPUTS, ...r.outputs };
            assert.deepEqual([...props.keys()].sort(), Object.keys(ours).sort());
            for (const [k, t] of Object.entries(ours))
                assert.match(props.get(k)!.type, SDK_TYPE[t], `${cls}.${k}: ${props.get(k)!.type}`);
        });

        it(`${cls}: the secret outputs are the SDK's additionalSecretOutputs`, () => {
            const js = fs.readFileSync(file.replace(/\.d\.ts$/, ".js"), "utf8");
            const m = /additionalSecretOutputs: \[([^\]]*)\]/.exec(js);
            const sdkSecrets = m ? [...m[1].matchAll(/"([^"]+)"/g)].map((x) => x[1]) : [];
            assert.deepEqual([...r.secretOutputs].sort(), sdkSecrets.sort());
        });
    }

    it("the program reads no output the stand-in leaves unimplemented", () => {
        const unimplemented = Object.values(RANDOM_RESOURCES).flatMap((r) => [...r.unimplemented]);
        assert.deepEqual(unimplemented, ["bcryptHash"]);
        const roots = ["components", "infra", "monitoring", "pipelines", "contract"];
        const readers = roots.flatMap((d) =>
            fs
                .readdirSync(path.join(PROJECT_ROOT, d), { recursive: true })
                .map(String)
                .filter((f) => f.endsWith(".ts"))
                .filter((f) =>
                    unimplemented.some((u) => fs.readFileSync(path.join(PROJECT_ROOT, d, f), "utf8").includes(`.${u}`)),
                )
                .map((f) => `${d}/${f}`),
        );
        assert.deepEqual(readers, []);
    });

    it("serves a schema with both resources, secret outputs marked", () => {
        const schema = JSON.parse(schemaJson(STANDIN_VERSION)) as {
            resources: Record<string, { properties: Record<string, { secret?: boolean }>; requiredInputs: string[] }>;
        };
        assert.deepEqual(Object.keys(schema.resources).sort(), Object.keys(RANDOM_RESOURCES).sort());
        const pw = schema.resources["random:index/randomPassword:RandomPassword"];
        assert.equal(pw.properties.result.secret, true);
        assert.equal(schema.resources["random:index/randomString:RandomString"].properties.result.secret, undefined);
        assert.deepEqual(pw.requiredInputs, ["length"]);
    });
});

describe("stand-in random provider: behaviour", () => {
    const PW = "urn:pulumi:s::p::random:index/randomPassword:RandomPassword::pw";
    const STR = "urn:pulumi:s::p::mlops-testbed:x:C$random:index/randomString:RandomString::s";

    it("fills in upstream's defaults and keeps numeric and number equal", () => {
        const { inputs, failures } = checkInputs({ length: 12, number: false });
        assert.deepEqual(failures, []);
        assert.deepEqual(inputs, { ...INPUT_DEFAULTS, length: 12, numeric: false, number: false });
    });

    it("reports every problem at once: length below 1, minimums beyond length, no class, unknown key", () => {
        assert.deepEqual(
            checkInputs({
                length: 0,
                lower: false,
                upper: false,
                numeric: false,
                special: false,
                minLower: 2,
                bogus: 1,
            } as never)
                .failures.map((f) => f.property)
                .sort(),
            ["bogus", "length", "length", "lower"],
        );
    });

    it("draws from the enabled classes only, honours the minimums and the length", () => {
        for (let i = 0; i < 50; i++) {
            const { inputs } = checkInputs({ length: 20, special: false, lower: false, minNumeric: 5 });
            const s = generate(inputs);
            assert.equal(s.length, 20);
            assert.match(s, /^[A-Z0-9]+$/);
            assert.ok((s.match(/[0-9]/g) ?? []).length >= 5, s);
        }
        const special = generate(
            checkInputs({ length: 30, lower: false, upper: false, numeric: false, overrideSpecial: "-_" }).inputs,
        );
        assert.match(special, /^[-_]{30}$/);
    });

    it("replaces on a change of any input, and on nothing else", async () => {
        const olds = checkInputs({ length: 20 }).inputs;
        for (const k of Object.keys(RANDOM_INPUTS) as (keyof typeof RANDOM_INPUTS)[]) {
            const value = { object: { a: "b" }, integer: 3, boolean: false, string: "x" }[RANDOM_INPUTS[k]];
            const news = { ...olds, [k]: value };
            const d = await randomProvider.diff!("id", PW, olds, news);
            assert.deepEqual(d.replaces, changedInputs(olds, news), k);
            assert.ok(d.replaces!.includes(k), k);
        }
        const same = await randomProvider.diff!("id", PW, olds, { ...olds });
        assert.equal(same.changes, false);
        assert.deepEqual(same.replaces, []);
    });

    it("returns RandomPassword's result as a secret, RandomString's in plain", async () => {
        const inputs = checkInputs({ length: 16, special: false }).inputs;
        const pw = await randomProvider.create!(PW, inputs);
        assert.equal(pw.outs.result["4dabf18193072939515e22adb298388d"], "1b47061264138c4ac30d75fd1eb44270");
        assert.match(pw.outs.result.value, /^[A-Za-z0-9]{16}$/);
        const s = await randomProvider.create!(STR, inputs);
        assert.match(s.outs.result, /^[A-Za-z0-9]{16}$/);
    });
});
