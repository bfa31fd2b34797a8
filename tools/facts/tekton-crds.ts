/**
 * Facts of Tekton's CustomResourceDefinitions, derived from upstream's CRD files (tektoncd/pipeline
 * config/300-crds/*.yaml, tektoncd/triggers config/300-*.yaml at the pinned releases): names, scope, versions,
 * subresources and what kind of schema each version has. The Go module proxy serves neither module, so the CRDs
 * themselves cannot be read from a module as the other add-ons' are; tools/cluster/tekton-crds.ts builds equivalent
 * CRDs from these facts. The upstream files are never committed.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseAllDocuments } from "yaml";
import type { Json } from "../../contract/json";

/** How a version's schema validates: none beyond `type: object` (Triggers), or a structural schema (Pipelines). */
export type SchemaKind = "preserve-unknown-fields" | "structural";

export interface TektonCrdVersion {
    readonly name: string;
    readonly served: boolean;
    readonly storage: boolean;
    readonly deprecated: boolean;
    readonly statusSubresource: boolean;
    readonly schema: SchemaKind;
}

export interface TektonCrdFacts {
    readonly group: string;
    readonly kind: string;
    readonly listKind: string;
    readonly plural: string;
    readonly singular: string;
    readonly shortNames: readonly string[];
    readonly categories: readonly string[];
    readonly scope: "Namespaced" | "Cluster";
    /** Upstream's conversion strategy (Webhook: Tekton's webhook converts between versions). */
    readonly conversion: "None" | "Webhook";
    readonly versions: readonly TektonCrdVersion[];
}

/** The schema kind of one version's openAPIV3Schema. */
export function schemaKind(schema: Json): SchemaKind {
    const top = schema ?? {};
    return top["x-kubernetes-preserve-unknown-fields"] === true && !top.properties
        ? "preserve-unknown-fields"
        : "structural";
}

/** Facts of every CRD in the *.yaml files of a folder, sorted by name. */
export function tektonCrdFacts(dir: string): TektonCrdFacts[] {
    const out: TektonCrdFacts[] = [];
    for (const file of fs
        .readdirSync(dir)
        .filter((f) => f.endsWith(".yaml"))
        .sort()) {
        for (const doc of parseAllDocuments(fs.readFileSync(path.join(dir, file), "utf8"))) {
            const crd = doc.toJS() as Json;
            if (crd?.kind !== "CustomResourceDefinition") continue;
            const s = crd.spec;
            out.push({
                group: s.group,
                kind: s.names.kind,
                listKind: s.names.listKind ?? `${s.names.kind}List`,
                plural: s.names.plural,
                singular: s.names.singular ?? s.names.kind.toLowerCase(),
                shortNames: s.names.shortNames ?? [],
                categories: s.names.categories ?? [],
                scope: s.scope,
                conversion: s.conversion?.strategy ?? "None",
                versions: s.versions.map((v: Json) => ({
                    name: v.name,
                    served: v.served === true,
                    storage: v.storage === true,
                    deprecated: v.deprecated === true,
                    statusSubresource: v.subresources?.status !== undefined,
                    schema: schemaKind(v.schema?.openAPIV3Schema),
                })),
            });
        }
    }
    return out.sort((a, b) => `${a.plural}.${a.group}`.localeCompare(`${b.plural}.${b.group}`));
}
