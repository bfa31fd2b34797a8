/**
 * The Pulumi engine this project runs for real, built from upstream Go modules: one pinned row per piece.
 *
 * `wanted` is the version package.json implies (the @pulumi/* SDK packages the program loads); `module`@`version` is
 * what the Go module proxy here serves and the build uses. Where the two differ, `servedNote` says why, and the
 * harness makes the CLI use the built binary anyway (project plugins in the scratch Pulumi.yaml).
 */
import * as path from "node:path";
import { cacheRoot } from "../cache";

/** How a piece reaches the build: built from its module, or not to be had from the proxy at all. */
export type EngineSource = "module" | "unavailable";

export interface EnginePiece {
    /** npm package whose version this piece must match (package.json's dependency). */
    readonly npmPackage: string;
    /** The version package.json implies (the npm package's version, with a `v`). */
    readonly wanted: string;
    /** Go module holding the main package. */
    readonly module: string;
    /** Module version the build uses (an exact tag or the pseudo-version the proxy serves). */
    readonly version: string;
    /** Main package inside the module. */
    readonly mainPackage: string;
    /** Executable name, as the CLI looks it up. */
    readonly binary: string;
    /** `module`: built by tools/engine/build.ts; `unavailable`: the proxy refuses the module (see servedNote). */
    readonly source: EngineSource;
    /** Why `version` differs from `wanted`, or why the piece is unavailable; empty when they agree. */
    readonly servedNote: string;
}

export const ENGINE = {
    cli: {
        npmPackage: "@pulumi/pulumi",
        wanted: "v3.270.0",
        module: "github.com/pulumi/pulumi/pkg/v3",
        version: "v3.274.1",
        mainPackage: "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi",
        binary: "pulumi",
        source: "module",
        servedNote:
            "the proxy refuses the source of pkg/v3 v3.270.0 to v3.273.0 (403 'This module version is not available'); " +
            "v3.274.1 is the nearest served release above the SDK (a newer CLI runs older SDKs)",
    },
    nodejsLanguageHost: {
        npmPackage: "@pulumi/pulumi",
        wanted: "v3.270.0",
        module: "github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3",
        version: "v3.270.0",
        mainPackage: "github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3",
        binary: "pulumi-language-nodejs",
        source: "unavailable",
        servedNote:
            "the proxy refuses every version of this module (403); the harness runs the program in-process through the " +
            "Automation API, which serves the language runtime itself (`pulumi up --client`)",
    },
    kubernetes: {
        npmPackage: "@pulumi/kubernetes",
        wanted: "v4.34.2",
        module: "github.com/pulumi/pulumi-kubernetes/provider/v4",
        version: "v4.0.0-20260115033456-f47bc2d6f199",
        mainPackage: "github.com/pulumi/pulumi-kubernetes/provider/v4/cmd/pulumi-resource-kubernetes",
        binary: "pulumi-resource-kubernetes",
        source: "module",
        servedNote:
            "upstream tags no provider/v4.x.y, so the module has only pseudo-versions, and the proxy serves one: commit " +
            "f47bc2d6f199 of 2026-01-15 (its go.mod requires sdk/v4 v4.24.0), older than the SDK's v4.34.2",
    },
    random: {
        npmPackage: "@pulumi/random",
        wanted: "v4.21.2",
        module: "github.com/pulumi/pulumi-random/provider/v4",
        version: "v4.21.2",
        mainPackage: "github.com/pulumi/pulumi-random/provider/v4/cmd/pulumi-resource-random",
        binary: "pulumi-resource-random",
        source: "unavailable",
        servedNote:
            "the proxy refuses every version of this module and of the bridge it needs " +
            "(github.com/pulumi/pulumi-terraform-bridge/pf) with 403",
    },
} as const satisfies Record<string, EnginePiece>;

export type EnginePieceName = keyof typeof ENGINE;

/** One folder per tool and version: `pulumi-v3.274.1`, `pulumi-resource-kubernetes-v4.0.0-...`. */
export function pieceDir(name: EnginePieceName, env: NodeJS.ProcessEnv = process.env): string {
    const piece: EnginePiece = ENGINE[name];
    return path.join(cacheRoot(env), `${piece.binary}-${piece.version}`);
}

/** Where a built piece's executable lives. */
export function pieceBinary(name: EnginePieceName, env: NodeJS.ProcessEnv = process.env): string {
    return path.join(pieceDir(name, env), "bin", ENGINE[name].binary);
}
