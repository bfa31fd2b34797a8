/**
 * The step runtime: one image with the pinned Python runtime and every package a step imports (the pipeline library's
 * store and registry clients, the Kubernetes client, the reference workload's pins), built once when `pulumi up`
 * installs the pipelines (pipelines/install/step-runtime.ts) instead of pip-installing them inside every run, whose
 * lead time the study measures. Its tag is the hash of what goes into it, so a change of requirements builds a new
 * runtime and an unchanged one is reused.
 *
 * Multi-arch without emulation: the packages are fetched per target platform with pip's cross-platform options
 * (wheels only) and the Containerfile only COPYs, so buildah builds every platform of the manifest list on any node.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { IMAGES, TESTBED_BUILT_IMAGES } from "../../contract/versions";

/**
 * The runtime's package sets, each in its own directory of the image, fetched from its pin files in the build context,
 * each a whole pinned closure installed without the resolver (--no-deps), so that the content tag names every package
 * version in the image:
 * - step-runtime: the library's and the reference workload's pins and everything they need (the lock
 *   pipelines/lib/requirements-lock.txt, `npm run lock:python`), on PYTHONPATH of the Python steps and of the
 *   model-server image;
 * - kube-client: the Kubernetes client's closure, apart because it pins python-dateutil 4, which botocore refuses;
 *   only the API-facing steps put it on PYTHONPATH.
 */
export const RUNTIME_PACKAGE_SETS = {
    "step-runtime": { path: "/opt/step-runtime", requirements: ["requirements-lock.txt"] },
    "kube-client": { path: "/opt/kube-client", requirements: ["requirements-kube.txt"] },
} as const;

/**
 * pip's options for installing a package set: its pin files hold the whole closure with the sha256 of the files pip
 * chooses on every platform (`npm run lock:python`), so no resolver (--no-deps) and no other file (--require-hashes).
 */
export const PACKAGE_SET_PIP_OPTIONS = ["--no-deps", "--require-hashes"] as const;
export type PackageSet = keyof typeof RUNTIME_PACKAGE_SETS;
export const STEP_RUNTIME_PATH = RUNTIME_PACKAGE_SETS["step-runtime"].path;
export const KUBE_CLIENT_PATH = RUNTIME_PACKAGE_SETS["kube-client"].path;

/**
 * Annotation of a workload naming the containers that cannot meet its namespace's `restricted` warn level (the
 * runtime build's buildah runs as root); the local tiers' apply accepts the API's warning about exactly these
 * (tools/cluster/kube.ts) and fails on any other.
 */
export const POD_SECURITY_EXCEPTION = "mlops-testbed/pod-security-exception";

/**
 * Step image of the Task definitions that run on the step runtime; renderTask replaces it with the runtime's image
 * reference (an unreplaced marker has no tag, which the images-pinned policy refuses).
 */
export const STEP_RUNTIME = "mlops-testbed-step-runtime";

/** The pin files the runtime installs, by their name in the build context (the repository file each comes from). */
export const RUNTIME_REQUIREMENTS = {
    "requirements-lock.txt": "pipelines/lib/requirements-lock.txt",
    "requirements-kube.txt": "pipelines/lib/requirements-kube.txt",
} as const;

/**
 * What the step-runtime lock pins the closure of (`npm run lock:python`): the library's and the reference workload's
 * own pins, resolved together.
 */
export const LOCKED_REQUIREMENTS = ["pipelines/lib/requirements.txt", "pipelines/workload/requirements.txt"] as const;

/** A package's name as pip compares names (PEP 503): lower case, runs of "-", "_" and "." as one "-". */
export function canonicalName(name: string): string {
    return name.toLowerCase().replace(/[-_.]+/g, "-");
}

/** A pin: the name as written, the version and, where the file names them, the sha256 of the files pip may fetch. */
export interface Pin {
    readonly name: string;
    readonly version: string;
    /** Hex sha256 digests (`--hash=sha256:...`), sorted; absent when the pin names none. */
    readonly hashes?: readonly string[];
}

/** Pins by canonical name. */
export type Pins = Map<string, Pin>;

/**
 * The pins of a requirements file: every requirement that is not blank or a comment must be `name==version` (extras
 * allowed), optionally followed by `--hash=sha256:<64 hex digits>` options, a requirement continuing over lines that
 * end with a backslash (as pip reads them); anything else is an error naming the line, since a range in a pin file
 * pins nothing and a malformed hash would make pip refuse the file.
 */
export function parsePins(text: string, file: string): Pins {
    const withoutComment = (line: string) => line.replace(/(^|\s+)#.*$/, "").trim();
    const pins: Pins = new Map();
    const problems: string[] = [];
    const lines = text.split("\n");
    for (let i = 0; i < lines.length; i++) {
        const first = i;
        let line = withoutComment(lines[i]);
        while (line.endsWith("\\") && i + 1 < lines.length)
            line = `${line.slice(0, -1).trim()} ${withoutComment(lines[++i])}`.trim();
        if (line === "") continue;
        const [requirement, ...options] = line.split(/\s+/);
        const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;=<>!~]+)$/.exec(requirement);
        if (!m) {
            problems.push(`${file}:${first + 1}: "${requirement}" is not an exact pin (name==version)`);
            continue;
        }
        const hashes: string[] = [];
        for (const option of options) {
            const h = /^--hash=sha256:([0-9a-f]{64})$/.exec(option);
            if (h) hashes.push(h[1]);
            else problems.push(`${file}:${first + 1}: "${option}" is not a hash (--hash=sha256:<64 hex digits>)`);
        }
        const key = canonicalName(m[1]);
        if (pins.has(key)) problems.push(`${file}:${first + 1}: ${m[1]} is pinned twice`);
        else pins.set(key, { name: m[1], version: m[3], ...(hashes.length > 0 ? { hashes: hashes.sort() } : {}) });
    }
    if (problems.length > 0) throw new Error(problems.join("\n"));
    return pins;
}

/**
 * Target platforms of the runtime and model-server images: buildah's platform and the wheel architecture pip fetches
 * for it (manylinux tags, see wheelPlatforms).
 */
export const TARGET_PLATFORMS = TESTBED_BUILT_IMAGES.platforms;
export type TargetArch = keyof typeof TARGET_PLATFORMS;
/** buildah's --platform list: every target platform. */
export const PLATFORMS = Object.values(TARGET_PLATFORMS)
    .map((p) => p.platform)
    .join(",");

/**
 * glibc of the base image (Debian bookworm: 2.36). pip's --platform matches a wheel's tag exactly (pip does not
 * widen manylinux_2_36 to the older levels the image also runs), so every manylinux level from 2_17 up to it is named.
 */
const BASE_GLIBC_MINOR = 36;
const OLDEST_MANYLINUX_MINOR = 17;

/** Python minor version of the pinned base image (`python:3.12.12-slim-bookworm` → `3.12`). */
export function runtimePythonVersion(image: string = IMAGES.python): string {
    const m = /:(\d+)\.(\d+)\.\d+/.exec(image);
    if (!m) throw new Error(`cannot read the Python version from the image tag of ${image}`);
    return `${m[1]}.${m[2]}`;
}

/** pip's --platform values for one architecture: manylinux_2_17 up to the base image's glibc. */
export function wheelPlatforms(arch: TargetArch): string[] {
    const out: string[] = [];
    for (let minor = OLDEST_MANYLINUX_MINOR; minor <= BASE_GLIBC_MINOR; minor++)
        out.push(`manylinux_2_${minor}_${TARGET_PLATFORMS[arch].wheelArch}`);
    return out;
}

/**
 * The pip command of the runtime build for one package set and architecture: its pinned packages, wheels only, for the
 * image's CPython, from the pin files in `context` into `context`/packages/<arch>/<set>. It runs on any node whatever
 * its architecture (nothing is compiled or executed).
 */
export function fetchPackagesCommand(arch: TargetArch, set: PackageSet, context: string): string[] {
    const { requirements } = RUNTIME_PACKAGE_SETS[set];
    return [
        "python",
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-cache-dir",
        "--disable-pip-version-check",
        ...PACKAGE_SET_PIP_OPTIONS,
        "--target",
        `${context}/packages/${arch}/${set}`,
        ...targetPlatformOptions(arch),
        ...requirements.flatMap((r) => ["-r", `${context}/${r}`]),
    ];
}

/** pip's options choosing the runtime image's wheels for one architecture: its platforms, wheels only, its CPython. */
export function targetPlatformOptions(arch: TargetArch): string[] {
    const version = runtimePythonVersion();
    return [
        ...wheelPlatforms(arch).flatMap((p) => ["--platform", p]),
        "--only-binary=:all:",
        "--python-version",
        version,
        "--implementation",
        "cp",
        "--abi",
        `cp${version.replace(".", "")}`,
    ];
}

/**
 * The runtime's Containerfile: the pinned Python image and the packages fetched for the platform being built
 * (buildah sets TARGETARCH per platform). COPY only, no RUN: no emulation, no privileges.
 */
export function runtimeContainerfile(): string {
    return [
        `FROM ${IMAGES.python}`,
        "ARG TARGETARCH",
        ...Object.entries(RUNTIME_PACKAGE_SETS).map(([set, p]) => `COPY packages/\${TARGETARCH}/${set}/ ${p.path}/`),
        `ENV PYTHONPATH=${STEP_RUNTIME_PATH} PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1`,
        "",
    ].join("\n");
}

const ROOT = path.join(__dirname, "..", "..");

/** The pin files' paths in this repository by build-context name. */
export function runtimeRequirementFiles(): Record<keyof typeof RUNTIME_REQUIREMENTS, string> {
    return Object.fromEntries(
        Object.entries(RUNTIME_REQUIREMENTS).map(([name, file]) => [name, path.join(ROOT, file)]),
    ) as Record<keyof typeof RUNTIME_REQUIREMENTS, string>;
}

/** The pin files' contents by build-context name. */
export function runtimeRequirements(): Record<keyof typeof RUNTIME_REQUIREMENTS, string> {
    return Object.fromEntries(
        Object.entries(RUNTIME_REQUIREMENTS).map(([name, file]) => [
            name,
            fs.readFileSync(path.join(ROOT, file), "utf8"),
        ]),
    ) as Record<keyof typeof RUNTIME_REQUIREMENTS, string>;
}

/**
 * The runtime's content tag: `runtime-` and the first 16 hex digits of the SHA-256 of everything that decides its
 * content (Containerfile, platforms, pip's platform options, pin files). Registries with immutable tags (ECR here)
 * guarantee the tag never names other content.
 */
export function runtimeTag(requirements: Record<string, string> = runtimeRequirements()): string {
    const h = createHash("sha256");
    h.update(runtimeContainerfile());
    for (const arch of Object.keys(TARGET_PLATFORMS) as TargetArch[])
        for (const set of Object.keys(RUNTIME_PACKAGE_SETS) as PackageSet[])
            h.update(fetchPackagesCommand(arch, set, ".").join(" "));
    for (const [name, text] of Object.entries(requirements).sort()) h.update(`${name}\0${text}\0`);
    return `${TESTBED_BUILT_IMAGES.runtimeTagPrefix}${h.digest("hex").slice(0, 16)}`;
}

/** The runtime's image reference in the testbed's registry (the model-server repository, under the content tag). */
export function runtimeImage(repository: string): string {
    return `${repository}:${runtimeTag()}`;
}
