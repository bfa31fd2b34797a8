/** Image references: whether one is pinned to a tag or a digest, and where Helm values name images. */
import { isRecord } from "./resources";

/** Tags that move: an image under one of them changes without any change to the program. */
export const FLOATING_TAGS: readonly string[] = [
    "latest",
    "main",
    "master",
    "stable",
    "edge",
    "nightly",
    "dev",
    "develop",
    "head",
    "canary",
];

/**
 * Why an image reference is not pinned, or undefined when it is: a digest (`@sha256:...`) or a tag that is not
 * one of FLOATING_TAGS.
 */
export function unpinnedReason(image: unknown): string | undefined {
    if (typeof image !== "string" || image.trim() === "") return "has no image reference";
    if (/@sha256:[0-9a-f]{64}$/.test(image)) return undefined;
    if (image.includes("@")) return `"${image}" has a malformed digest (expected @sha256:<64 hex digits>)`;
    const lastSlash = image.lastIndexOf("/");
    const colon = image.lastIndexOf(":");
    if (colon <= lastSlash) return `"${image}" has no tag (it means :latest)`;
    const tag = image.slice(colon + 1);
    if (FLOATING_TAGS.includes(tag.toLowerCase())) return `"${image}" uses the floating tag "${tag}"`;
    return undefined;
}

/** A problem with an image found in Helm values, with its path in the values. */
export interface ValuesImageProblem {
    readonly path: string;
    readonly reason: string;
}

/**
 * Images named in Helm values: `image: "<ref>"` strings (and keys ending in `Image`), and `{ repository, tag,
 * digest }` objects. An object without tag or digest takes the chart's default, pinned by the chart version; an
 * explicit floating tag is a problem.
 */
export function valuesImageProblems(values: unknown, path = "values"): ValuesImageProblem[] {
    const out: ValuesImageProblem[] = [];
    const visit = (v: unknown, p: string) => {
        if (Array.isArray(v)) {
            v.forEach((item, i) => visit(item, `${p}[${i}]`));
            return;
        }
        if (!isRecord(v)) return;
        for (const [key, value] of Object.entries(v)) {
            const at = `${p}.${key}`;
            if (/^(image|.+Image)$/.test(key) && typeof value === "string") {
                const reason = unpinnedReason(value);
                if (reason) out.push({ path: at, reason });
            } else if (/^(image|.+Image)$/.test(key) && isRecord(value)) {
                const tag = value.tag;
                if (typeof tag === "string" && FLOATING_TAGS.includes(tag.toLowerCase()) && !value.digest) {
                    out.push({ path: `${at}.tag`, reason: `uses the floating tag "${tag}"` });
                }
                visit(value, at);
            } else {
                visit(value, at);
            }
        }
    };
    visit(values, path);
    return out;
}

/** Whether a chart version is exact (`1.2.3`, `v1.9.3`, `0.20.0-rc.1`), not a range or empty. */
export function isExactChartVersion(version: unknown): boolean {
    return typeof version === "string" && /^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.test(version);
}
