/**
 * `npm run lock:python`: the step runtime's lock, pipelines/lib/requirements-lock.txt. The library's and the reference
 * workload's pins (LOCKED_REQUIREMENTS) name the packages the steps import; pip resolves the rest (botocore, the Azure
 * SDK's cryptography, scikit-learn's threadpoolctl, ...) to whatever is newest when it runs, so two builds of the same
 * runtime tag could hold different packages. The lock pins the whole closure: the runtime build installs it without
 * the resolver (pipelines/core/runtime.ts) and the tests' environment takes it as constraints (tools/python-env.sh).
 *
 * It is written from pip's own resolver (`pip install --dry-run --report`) for every platform the runtime image is built
 * for (its CPython, linux amd64 and arm64, wheels only) and for the tests' Python, which must all agree, with the sha256
 * of the file pip chooses for each package on each platform (the runtime build installs with --require-hashes, so a
 * file that is not the one locked is refused). `--check` writes nothing and asks pip instead whether the committed
 * lock is the closure on every platform: resolving the two files with the lock's pins as constraints must give
 * exactly the lock (nothing missing, nothing unneeded, no version in conflict) and choose only files whose hash the
 * lock names, and every pin of the two files must be in it at its version. pip needs its package index for both.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
    LOCKED_REQUIREMENTS,
    RUNTIME_REQUIREMENTS,
    TARGET_PLATFORMS,
    canonicalName,
    parsePins,
    runtimePythonVersion,
    targetPlatformOptions,
    type Pins,
    type TargetArch,
} from "../pipelines/core/runtime";
import { parseOptions, runAsScript, UsageError } from "./cli";
import { PROJECT_ROOT } from "./stack";

const USAGE = `Usage: npm run lock:python [-- --check]

Resolves the step runtime's packages (${LOCKED_REQUIREMENTS.join(", ")}) with pip for every platform of the
runtime image and for the tests' Python, and writes their whole closure, pinned, with the sha256 of the file pip
chooses for each, to ${RUNTIME_REQUIREMENTS["requirements-lock.txt"]}; writes the same hashes into the Kubernetes
client's hand-kept closure, ${RUNTIME_REQUIREMENTS["requirements-kube.txt"]}. Needs pip's package index.

Options:
  --check      Write nothing: exit 1 unless the committed lock is a closure on every platform and holds every pin,
               and both files name the hash of every file pip chooses
  -h, --help   Show this help

Exit codes: 0 done (or the lock holds), 1 the platforms disagree (or the lock does not hold), 2 bad arguments.`;

/** The fields of pip's installation report (`--report`, format version 1) the lock reads. */
export interface PipReport {
    version?: string;
    install?: {
        metadata: { name: string; version: string };
        download_info?: { url?: string; archive_info?: { hashes?: Record<string, string>; hash?: string } };
    }[];
}

/**
 * What pip's installation report would install: each package's name, version and the sha256 of the file pip chose
 * (its index's hash, which pip checks on download). A file without a sha256 is an error: the lock could not pin it.
 */
export function reportPins(report: PipReport): Pins {
    if (report.version !== "1" || !Array.isArray(report.install))
        throw new Error(`not a pip installation report of version 1 (version ${String(report.version)})`);
    const problems: string[] = [];
    const pins: Pins = new Map(
        report.install.map(({ metadata: m, download_info: d }) => {
            const archive = d?.archive_info;
            const sha256 = archive?.hashes?.sha256 ?? /^sha256=([0-9a-f]{64})$/.exec(archive?.hash ?? "")?.[1];
            if (!sha256) problems.push(`${m.name}==${m.version}: pip names no sha256 for ${d?.url ?? "its file"}`);
            return [canonicalName(m.name), { name: m.name, version: m.version, hashes: sha256 ? [sha256] : [] }];
        }),
    );
    if (problems.length > 0) throw new Error(problems.join("\n"));
    return pins;
}

/**
 * The pins of resolutions that agree on every version, each with the hashes of the files chosen on every platform
 * (a package with one universal wheel has one hash; one built per platform, one per platform).
 */
export function mergeHashes(resolutions: readonly Pins[]): Pins {
    const merged: Pins = new Map();
    for (const r of resolutions)
        for (const [key, p] of r) {
            const seen = merged.get(key);
            const hashes = [...new Set([...(seen?.hashes ?? []), ...(p.hashes ?? [])])].sort();
            merged.set(key, { name: seen?.name ?? p.name, version: p.version, hashes });
        }
    return merged;
}

/**
 * Hashes of files pip chose that the lock does not name: pip would refuse them under --require-hashes (a new wheel
 * uploaded for a pinned version, or a lock written without them).
 */
export function missingHashes(lock: Pins, resolved: Pins, platform: string, label = "the lock"): string[] {
    return [...resolved].flatMap(([key, p]) => {
        const allowed = new Set(lock.get(key)?.hashes ?? []);
        return (p.hashes ?? [])
            .filter((h) => !allowed.has(h))
            .map(
                (h) =>
                    `${label} lacks the sha256 of the file pip chooses for ${p.name}==${p.version} on ${platform}: ${h}`,
            );
    });
}

/**
 * A hand-kept closure's file with the hashes of `pins`: its leading comment lines as they are, then the pins. Its
 * versions are edited by hand; `npm run lock:python` writes the hashes.
 */
export function keptClosureText(current: string, pins: Pins): string {
    const lines = current.split("\n");
    const end = lines.findIndex((l) => !l.startsWith("#"));
    return [...lines.slice(0, end < 0 ? lines.length : end), ...pinLines(pins, "with"), ""].join("\n");
}

/** How `b` differs from `a`, as sentences: what `b` lacks, what it has more, what it has at another version. */
export function pinDifferences(a: Pins, b: Pins, names: { a: string; b: string }): string[] {
    const out: string[] = [];
    for (const [key, p] of a) {
        const q = b.get(key);
        if (!q) out.push(`${names.b} lacks ${p.name}==${p.version} (${names.a} has it)`);
        else if (q.version !== p.version) out.push(`${names.b} has ${q.name}==${q.version}, ${names.a} ${p.version}`);
    }
    for (const [key, q] of b) if (!a.has(key)) out.push(`${names.b} has ${q.name}==${q.version}, ${names.a} does not`);
    return out;
}

/**
 * Pins as requirement lines sorted by canonical name, each with its hashes as `--hash=sha256:` options on lines of
 * their own (`hashes: "with"`), or without them: pip refuses a constraints file with hashes (it asks every requirement
 * for hashes then), so the tests' environment and the lock's check take the lock's pins as constraints so.
 */
export function pinLines(pins: Pins, hashes: "with" | "without"): string[] {
    return [...pins.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .flatMap(([, p]) => {
            const pin = `${p.name}==${p.version}`;
            const h = hashes === "with" ? (p.hashes ?? []) : [];
            return h.length === 0
                ? [pin]
                : [`${pin} \\`, ...h.map((x, i) => `    --hash=sha256:${x}${i < h.length - 1 ? " \\" : ""}`)];
        });
}

/** The lock's text: what it is and how it is made, then every pin with the hashes of its files, sorted by name. */
export function lockText(pins: Pins, platforms: readonly string[]): string {
    return [
        "# The step runtime's Python packages: the pins of",
        ...LOCKED_REQUIREMENTS.map((f) => `#   ${f}`),
        "# and their whole dependency closure, as pip resolves them, the same, for each of:",
        ...platforms.map((p) => `#   ${p}`),
        "# with the sha256 of the file pip chooses for each. Written by `npm run lock:python` (edit those files, then",
        "# run it); the runtime build installs exactly this (--no-deps --require-hashes), tools/python-env.sh too, and",
        "# then takes its pins, without the hashes, as constraints.",
        ...pinLines(pins, "with"),
        "",
    ].join("\n");
}

/** Where pip resolves: an architecture of the runtime image, or the Python that runs this (the tests' Python). */
type Platform = TargetArch | "tests";

function platformName(platform: Platform, testsPython: string): string {
    return platform === "tests"
        ? `the tests' Python (${testsPython})`
        : `${TARGET_PLATFORMS[platform].platform} (CPython ${runtimePythonVersion()})`;
}

/**
 * What pip would install for one platform, without installing anything: the requirement files resolved (under
 * `constraints`), or exactly `pins` with --no-deps (the files pip chooses for a closure kept whole). Pins and
 * constraints are given to pip without hashes, so a file that is not the one locked is reported, not refused.
 */
function resolve(
    python: string,
    platform: Platform,
    what: { files: readonly string[]; constraints?: Pins } | { pins: Pins },
): Pins {
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "mlops-python-lock-"));
    try {
        const report = path.join(scratch, "report.json");
        const write = (name: string, pins: Pins) => {
            fs.writeFileSync(path.join(scratch, name), `${pinLines(pins, "without").join("\n")}\n`);
            return path.join(scratch, name);
        };
        const args =
            "pins" in what
                ? ["--no-deps", "-r", write("pins.txt", what.pins)]
                : [
                      ...what.files.flatMap((f) => ["-r", path.join(PROJECT_ROOT, f)]),
                      ...(what.constraints ? ["-c", write("constraints.txt", what.constraints)] : []),
                  ];
        execFileSync(
            python,
            [
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--dry-run",
                "--ignore-installed",
                "--report",
                report,
                ...(platform === "tests"
                    ? []
                    : ["--target", path.join(scratch, "target"), ...targetPlatformOptions(platform)]),
                ...args,
            ],
            { stdio: ["ignore", "inherit", "inherit"] },
        );
        return reportPins(JSON.parse(fs.readFileSync(report, "utf8")) as PipReport);
    } finally {
        fs.rmSync(scratch, { recursive: true, force: true });
    }
}

/** Problems of a lock against the files it locks: a pin missing from it, or at another version. */
export function lockMissesPins(lock: Pins, locked: readonly { file: string; pins: Pins }[]): string[] {
    return locked.flatMap(({ file, pins }) =>
        [...pins].flatMap(([key, p]) => {
            const l = lock.get(key);
            if (!l) return [`the lock lacks ${p.name}==${p.version} of ${file}`];
            return l.version === p.version ? [] : [`the lock has ${l.name}==${l.version}, ${file} pins ${p.version}`];
        }),
    );
}

/**
 * The file pip chooses for every pin of a closure kept whole (installed --no-deps) on each platform, and where pip's
 * choice is not the pinned version (it cannot be, unless the file's pins are not what pip reads).
 */
function keptClosureChoices(
    python: string,
    platforms: readonly Platform[],
    names: readonly string[],
    file: string,
    pins: Pins,
): { choices: { platform: string; chosen: Pins }[]; moved: string[] } {
    const choices = platforms.map((p, i) => ({ platform: names[i], chosen: resolve(python, p, { pins }) }));
    const moved = choices.flatMap((c) =>
        pinDifferences(pins, c.chosen, { a: file, b: `pip's choice on ${c.platform}` }),
    );
    return { choices, moved };
}

/**
 * The pip of `interpreter`: a scratch virtual environment of it, removed by `done`. A distribution's python3 may have
 * no pip (Debian's needs python3-pip, and refuses installs into itself: PEP 668); its venv module (python3-venv, in
 * tools/install-debian-packages.sh) gives the pip the tests' environment is built with, on the same interpreter.
 */
function scratchPip(interpreter: string): { python: string; done: () => void } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlops-python-lock-pip-"));
    execFileSync(interpreter, ["-m", "venv", dir], { stdio: ["ignore", "inherit", "inherit"] });
    return { python: path.join(dir, "bin", "python"), done: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

async function main(argv: readonly string[]): Promise<number> {
    const { values } = parseOptions(argv, { check: { type: "boolean" } });
    const pip = scratchPip(process.env.PYTHON ?? "python3");
    try {
        return lockOrCheck(pip.python, values.check === true);
    } finally {
        pip.done();
    }
}

function lockOrCheck(python: string, check: boolean): number {
    const testsPython = execFileSync(python, ["--version"], { encoding: "utf8" }).trim();
    const platforms: Platform[] = [...(Object.keys(TARGET_PLATFORMS) as TargetArch[]), "tests"];
    const names = platforms.map((p) => platformName(p, testsPython));
    const lockFile = RUNTIME_REQUIREMENTS["requirements-lock.txt"];
    const locked = LOCKED_REQUIREMENTS.map((file) => ({
        file,
        pins: parsePins(fs.readFileSync(path.join(PROJECT_ROOT, file), "utf8"), file),
    }));
    // The kube client's closure keeps its versions by hand; only the hashes of the files pip chooses are the tool's.
    const kubeFile = RUNTIME_REQUIREMENTS["requirements-kube.txt"];
    const kubeText = fs.readFileSync(path.join(PROJECT_ROOT, kubeFile), "utf8");
    const kube = parsePins(kubeText, kubeFile);
    const kubeChosen = keptClosureChoices(python, platforms, names, kubeFile, kube);

    if (check) {
        const lockPath = path.join(PROJECT_ROOT, lockFile);
        if (!fs.existsSync(lockPath)) throw new UsageError(`${lockFile} does not exist: run npm run lock:python`);
        const lock = parsePins(fs.readFileSync(lockPath, "utf8"), lockFile);
        const problems = lockMissesPins(lock, locked);
        // The files' pins under the lock as constraints: a package the lock lacks comes out unconstrained, one it
        // pins that nothing needs does not come out, and a pin in conflict makes pip fail.
        for (const [i, platform] of platforms.entries()) {
            let resolved: Pins;
            try {
                resolved = resolve(python, platform, { files: LOCKED_REQUIREMENTS, constraints: lock });
            } catch {
                problems.push(`pip finds no resolution on ${names[i]} under the lock (its message is above)`);
                continue;
            }
            problems.push(...pinDifferences(lock, resolved, { a: "the lock", b: `pip's resolution on ${names[i]}` }));
            problems.push(...missingHashes(lock, resolved, names[i]));
        }
        const kubeProblems = [
            ...kubeChosen.moved,
            ...kubeChosen.choices.flatMap((c) => missingHashes(kube, c.chosen, c.platform, kubeFile)),
        ];
        if (problems.length > 0)
            process.stderr.write(`${lockFile} is not the closure of its pins:\n  ${problems.join("\n  ")}\n`);
        if (kubeProblems.length > 0)
            process.stderr.write(`${kubeFile} does not hold what pip installs:\n  ${kubeProblems.join("\n  ")}\n`);
        if (problems.length + kubeProblems.length > 0) return 1;
        process.stdout.write(
            `${lockFile}: ${lock.size} pins, a closure on ${platforms.length} platforms, every chosen file's hash in it\n`,
        );
        process.stdout.write(`${kubeFile}: ${kube.size} pins, every chosen file's hash in it\n`);
        return 0;
    }

    const resolutions = platforms.map((p) => resolve(python, p, { files: LOCKED_REQUIREMENTS }));
    const disagreements = resolutions
        .slice(1)
        .flatMap((r, i) => pinDifferences(resolutions[0], r, { a: names[0], b: names[i + 1] }));
    if (disagreements.length > 0) {
        process.stderr.write(
            `the platforms resolve differently; pin these in ${LOCKED_REQUIREMENTS.join(" or ")}:\n  `,
        );
        process.stderr.write(`${disagreements.join("\n  ")}\n`);
        return 1;
    }
    const missing = lockMissesPins(resolutions[0], locked);
    if (missing.length > 0) throw new Error(`pip resolved without a pin:\n  ${missing.join("\n  ")}`);
    if (kubeChosen.moved.length > 0)
        throw new Error(`pip chose other versions than ${kubeFile}:\n  ${kubeChosen.moved.join("\n  ")}`);
    const lock = mergeHashes(resolutions);
    // Named as the kube file names them (pip's report names a package as its metadata does).
    const kubeHashed: Pins = new Map(
        [...mergeHashes(kubeChosen.choices.map((c) => c.chosen))].map(([key, p]) => [
            key,
            { ...p, name: kube.get(key)?.name ?? p.name },
        ]),
    );
    fs.writeFileSync(path.join(PROJECT_ROOT, lockFile), lockText(lock, names));
    fs.writeFileSync(path.join(PROJECT_ROOT, kubeFile), keptClosureText(kubeText, kubeHashed));
    const count = (pins: Pins) => [...pins.values()].reduce((n, p) => n + (p.hashes?.length ?? 0), 0);
    process.stdout.write(
        `${lockFile}: ${lock.size} pins with ${count(lock)} file hashes, the same on ${platforms.length} platforms\n`,
    );
    process.stdout.write(`${kubeFile}: ${kube.size} pins with ${count(kubeHashed)} file hashes\n`);
    return 0;
}

runAsScript(module, USAGE, main);
