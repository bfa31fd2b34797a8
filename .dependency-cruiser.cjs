/**
 * Which folder may import which: the layers meet only in contract/, and imports point one way (README, "Layout").
 * `npm run imports` checks the sources against these rules; test/imports.spec.ts runs the same check in `npm test`
 * and also refuses any two-way import between two folders.
 *
 * A folder (a "domain") may import itself and the domains listed for it, nothing else of the project. Specs
 * (`*.spec.ts`) are tests, not part of the program: they may import anything, and nothing may import them.
 */
const DOMAINS = {
    contract: [],
    "components/gpu": ["contract"],
    "components/models": ["contract"],
    monitoring: ["contract"],
    pipelines: ["contract"],
    "components/aws": ["contract", "components/gpu"],
    "components/azure": ["contract", "components/gpu"],
    "components/existing": ["contract", "components/gpu"],
    infra: [
        "contract",
        "components/aws",
        "components/azure",
        "components/existing",
        "components/gpu",
        "components/models",
        "monitoring",
        "pipelines",
    ],
    policy: ["contract", "infra"],
    tools: [
        "contract",
        "components/aws",
        "components/azure",
        "components/existing",
        "components/gpu",
        "components/models",
        "monitoring",
        "pipelines",
        "infra",
        "policy",
    ],
    test: [
        "contract",
        "components/aws",
        "components/azure",
        "components/existing",
        "components/gpu",
        "components/models",
        "monitoring",
        "pipelines",
        "infra",
        "policy",
        "tools",
    ],
};

const esc = (s) => s.replace(/[/.]/g, "\\$&");
const under = (domain) => `^${esc(domain)}/`;

// eslint-disable-next-line no-undef -- CommonJS: dependency-cruiser loads its config with require
module.exports = {
    forbidden: [
        ...Object.entries(DOMAINS).map(([domain, allowed]) => ({
            name: `${domain.replace("/", "-")}-imports`,
            comment: `${domain}/ may import only ${allowed.length ? allowed.join(", ") : "nothing of the project"}`,
            severity: "error",
            from: { path: under(domain), pathNot: "\\.spec\\.ts$" },
            to: {
                path: `^(${Object.keys(DOMAINS).map(esc).join("|")})/`,
                pathNot: [domain, ...allowed].map(under),
            },
        })),
        {
            name: "no-importing-specs",
            comment: "a spec is a test: nothing imports it",
            severity: "error",
            from: {},
            to: { path: "\\.spec\\.ts$" },
        },
        {
            name: "known-domains",
            comment: "every source file belongs to a domain listed in .dependency-cruiser.cjs",
            severity: "error",
            from: { path: "\\.ts$", pathNot: [`^(${Object.keys(DOMAINS).map(esc).join("|")})/`, "^node_modules/"] },
            to: {},
        },
    ],
    options: {
        tsPreCompilationDeps: true,
        tsConfig: { fileName: "tsconfig.json" },
        doNotFollow: { path: "node_modules" },
        exclude: { path: "(^|/)node_modules/|^out/|^bin/" },
        moduleSystems: ["cjs", "es6"],
    },
};
