// ESLint (flat config): JavaScript's recommended rules, typescript-eslint's recommended rules with type information,
// and Pulumi's rules against Outputs in template literals (they need types). `npm run lint` runs it.
import js from "@eslint/js";
import pulumi from "@pulumi/eslint-plugin";
import tseslint from "typescript-eslint";

export default tseslint.config(
    { ignores: ["node_modules/", "out/", "bin/", "policy/node_modules/", ".stryker-tmp/"] },
    js.configs.recommended,
    ...tseslint.configs.recommended,
    {
        files: ["**/*.ts"],
        languageOptions: {
            parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
        },
        plugins: { "@pulumi": pulumi },
        rules: {
            // A leading underscore marks a binding kept only for its position (destructuring, callback arguments).
            "@typescript-eslint/no-unused-vars": [
                "error",
                { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" },
            ],
            "@pulumi/no-output-in-template-literal": "error",
            "@pulumi/no-output-instance-in-template-literal": "error",
        },
    },
    {
        files: ["**/*.mjs", "**/*.js", "**/*.cjs"],
        languageOptions: { globals: { console: "readonly", process: "readonly" } },
    },
);
