/**
 * CustomResourceDefinitions of the add-ons, read from the upstream Go modules at the versions the testbed installs.
 * The modules are downloaded into the Go module cache by `go mod download` (checked against the checksum
 * database); nothing of them is committed.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseAllDocuments } from "yaml";
import { CHARTS, TEKTON } from "../../contract/versions";

/** One module's CRD files. */
export interface CrdSource {
    /** What the CRDs are for, in the report. */
    readonly name: string;
    readonly module: string;
    readonly version: string;
    /** Directories inside the module whose *.yaml files are CRDs. */
    readonly dirs: readonly string[];
    /** Why this module at this version. */
    readonly why: string;
}

/**
 * The modules the CRDs come from. Envoy Gateway v1.9.3 and Tekton are pinned in infra/versions.ts, but the Go module
 * proxy does not serve every release (see UNAVAILABLE_CRDS): where it refuses the pinned one, the nearest release it
 * serves that bundles the same CRDs is used, and the reason is stated here and in docs/local-cluster.md.
 */
export const CRD_SOURCES: readonly CrdSource[] = [
    {
        name: "Gateway API and Envoy Gateway",
        module: "github.com/envoyproxy/gateway",
        version: "v1.9.1",
        dirs: ["charts/gateway-helm/charts/crds/crds", "charts/gateway-helm/charts/crds/crds/generated"],
        why:
            `the gateway-helm chart's own CRDs (Gateway API v1.6.1, experimental channel, and Envoy Gateway's); the pinned ${CHARTS.envoyGateway.version} ` +
            "is not served by the Go module proxy (403), v1.9.1 is the newest v1.9 release it serves and bundles the same Gateway API v1.6.1",
    },
    {
        name: "prometheus-operator",
        module: "github.com/prometheus-operator/prometheus-operator",
        version: "v0.93.1",
        dirs: ["example/prometheus-operator-crd"],
        why: `kube-prometheus-stack ${CHARTS.kubePrometheusStack.version} ships prometheus-operator v0.93.1 and its CRDs from this directory`,
    },
];

/** CRDs the cluster layer needs but no module the proxy serves carries: what is missing and the exact refusal. */
export const UNAVAILABLE_CRDS = [
    {
        name: "Tekton Pipelines",
        module: "github.com/tektoncd/pipeline",
        version: TEKTON.pipelines.version,
        error: `go mod download github.com/tektoncd/pipeline@${TEKTON.pipelines.version}: 403 Forbidden, "This module version is not available." (the proxy refuses every version of the module)`,
    },
    {
        name: "Tekton Triggers",
        module: "github.com/tektoncd/triggers",
        version: TEKTON.triggers.version,
        error: `go mod download github.com/tektoncd/triggers@${TEKTON.triggers.version}: 403 Forbidden, "This module version is not available." (the proxy refuses every version of the module)`,
    },
] as const;

/** API groups whose objects cannot be applied because their CRDs are unavailable (see UNAVAILABLE_CRDS). */
export const GROUPS_WITHOUT_CRDS = ["tekton.dev", "triggers.tekton.dev"] as const;

/** The module's directory in the module cache, downloading it first when needed. */
export function moduleDir(module: string, version: string): string {
    const out = execFileSync("go", ["mod", "download", "-json", `${module}@${version}`], {
        encoding: "utf8",
        // Outside any module, so no go.mod of ours is read or changed.
        cwd: fs.mkdtempSync(path.join(os.tmpdir(), "crd-module-")),
        env: { ...process.env, GOFLAGS: "-mod=mod", GOTOOLCHAIN: "local" },
    });
    const info = JSON.parse(out) as { Dir?: string; Error?: string };
    if (!info.Dir) throw new Error(`go mod download ${module}@${version}: ${info.Error ?? out}`);
    return info.Dir;
}

export type Crd = {
    apiVersion: "apiextensions.k8s.io/v1";
    kind: "CustomResourceDefinition";
    metadata: { name: string; [k: string]: unknown };
    spec: { group: string; [k: string]: unknown };
};

/** Every CRD of one source, parsed from the module's files. */
export function crdsOf(source: CrdSource): Crd[] {
    const dir = moduleDir(source.module, source.version);
    const crds: Crd[] = [];
    for (const sub of source.dirs) {
        const full = path.join(dir, sub);
        for (const file of fs
            .readdirSync(full)
            .filter((f) => f.endsWith(".yaml"))
            .sort()) {
            for (const doc of parseAllDocuments(fs.readFileSync(path.join(full, file), "utf8"))) {
                const obj = doc.toJS() as Crd | null;
                if (obj?.kind === "CustomResourceDefinition") crds.push(obj);
            }
        }
    }
    if (crds.length === 0) throw new Error(`no CRDs in ${source.module}@${source.version} ${source.dirs.join(", ")}`);
    return crds;
}
