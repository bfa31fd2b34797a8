/**
 * Tekton's CustomResourceDefinitions built from committed facts (test/facts/tekton-crds.json, derived by
 * tools/facts/tekton-crds.ts from upstream's CRD files), because the Go module proxy serves neither
 * github.com/tektoncd/pipeline nor github.com/tektoncd/triggers. Used by the cluster tier and the engine tier.
 *
 * Every version gets the schema Triggers' own CRDs have: `type: object` with `x-kubernetes-preserve-unknown-fields`.
 * For Triggers that is exactly upstream's validation (none in the API server; Tekton's webhook validates, and no
 * webhook runs here). For Pipelines it is weaker: upstream's v1.15 CRDs carry structural schemas (types checked,
 * unknown fields pruned by the API server); see docs/local-cluster.md. Conversion is `None` (upstream: Tekton's
 * conversion webhook), which is the same for objects of the storage version, the only ones the testbed writes.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT } from "../stack";
import type { TektonCrdFacts } from "../facts/tekton-crds";
import type { Crd } from "./crds";

export const TEKTON_CRD_FACTS_FILE = path.join(PROJECT_ROOT, "test/facts/tekton-crds.json");

export interface TektonCrdFactsFile {
    readonly _source: string;
    readonly pipelines: { readonly module: string; readonly crds: readonly TektonCrdFacts[] };
    readonly triggers: { readonly module: string; readonly crds: readonly TektonCrdFacts[] };
}

export function readTektonCrdFacts(file = TEKTON_CRD_FACTS_FILE): TektonCrdFactsFile {
    return JSON.parse(fs.readFileSync(file, "utf8")) as TektonCrdFactsFile;
}

/** Triggers' schema for every version: any object, validated by Tekton's webhook, not by the API server. */
const SCHEMALESS = { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } } as const;

/** One CRD from its facts. */
export function tektonCrd(f: TektonCrdFacts, partOf: string): Crd {
    return {
        apiVersion: "apiextensions.k8s.io/v1",
        kind: "CustomResourceDefinition",
        metadata: {
            name: `${f.plural}.${f.group}`,
            labels: { "app.kubernetes.io/part-of": partOf, "mlops-testbed/derived-from-facts": "true" },
        },
        spec: {
            group: f.group,
            scope: f.scope,
            names: {
                kind: f.kind,
                listKind: f.listKind,
                plural: f.plural,
                singular: f.singular,
                ...(f.shortNames.length > 0 ? { shortNames: [...f.shortNames] } : {}),
                ...(f.categories.length > 0 ? { categories: [...f.categories] } : {}),
            },
            versions: f.versions.map((v) => ({
                name: v.name,
                served: v.served,
                storage: v.storage,
                ...(v.deprecated ? { deprecated: true } : {}),
                ...(v.statusSubresource ? { subresources: { status: {} } } : {}),
                schema: SCHEMALESS,
            })),
        },
    };
}

/** Every Tekton Pipelines and Triggers CRD, from the facts. */
export function tektonCrds(facts: TektonCrdFactsFile = readTektonCrdFacts()): Crd[] {
    return [
        ...facts.pipelines.crds.map((f) => tektonCrd(f, "tekton-pipelines")),
        ...facts.triggers.crds.map((f) => tektonCrd(f, "tekton-triggers")),
    ];
}
