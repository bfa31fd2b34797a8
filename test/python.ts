/**
 * The Python the specs run: the project's virtual environment (tools/python-env.sh: the cluster's pinned packages
 * from PyPI, built once into the cache), and one way to run a directory's unittest suite with it.
 */
import * as assert from "node:assert/strict";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import * as path from "node:path";
import { PROJECT_ROOT } from "../tools/stack";

/** The step library's root: on PYTHONPATH in step pods (/opt/pipeline-lib) and in the specs. */
export const STEP_LIBRARY = path.join(PROJECT_ROOT, "pipelines", "lib");

let venv: string | undefined;

/** The virtual environment's interpreter (built by tools/python-env.sh when missing). */
export function python(): string {
    if (!venv) {
        const r = spawnSync("bash", [path.join(PROJECT_ROOT, "tools", "python-env.sh"), "path"], {
            encoding: "utf8",
            timeout: 600_000,
        });
        assert.equal(r.status, 0, `tools/python-env.sh failed:\n${r.stderr}`);
        venv = r.stdout.trim();
    }
    return path.join(venv, "bin", "python");
}

/**
 * Where the environment holds the pinned Kubernetes client of the API-facing steps (pipelines/lib/requirements-kube.txt,
 * installed --no-deps --target as the step runtime's build installs it into /opt/kube-client): a PYTHONPATH entry,
 * as in those steps' pods.
 */
export function kubeClientPath(): string {
    return path.join(path.dirname(path.dirname(python())), "kube-client");
}

let site: string | undefined;
/** The environment's site-packages (the library's and the workload's pins: what the runtime holds at /opt/step-runtime). */
export function sitePackages(): string {
    if (!site) {
        const r = spawnSync(python(), ["-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], {
            encoding: "utf8",
        });
        assert.equal(r.status, 0, r.stderr);
        site = r.stdout.trim();
    }
    return site;
}

/**
 * One OpenMP and one BLAS thread per Python process (numpy, scipy and scikit-learn start a pool of each, as many
 * threads as cores): the specs run side by side on few cores, where the pools' threads spin-wait between the small
 * computations of the tests and burn CPU for no speed (about 1 s of the workload's suite). The results do not depend
 * on it; the processes a spec's Python starts inherit it.
 */
export const ONE_THREAD_PER_PROCESS: Readonly<Record<string, string>> = {
    OMP_NUM_THREADS: "1",
    OPENBLAS_NUM_THREADS: "1",
};

/**
 * Runs the venv's Python with `args` in `cwd`, with extra PYTHONPATH entries (as a pod's PYTHONPATH) and the venv's
 * `bin` first on PATH, as `tools/python-env.sh run` puts it and as the step image's PATH holds its interpreter: a
 * script the test starts that runs `python` gets this one, not whatever the machine has (Debian has no `python`).
 */
export function runPython(
    args: readonly string[],
    options: { cwd: string; pythonPath?: readonly string[]; timeout?: number; input?: string },
): SpawnSyncReturns<string> {
    return spawnSync(python(), [...args], {
        cwd: options.cwd,
        encoding: "utf8",
        timeout: options.timeout ?? 280_000,
        input: options.input,
        env: {
            ...process.env,
            ...ONE_THREAD_PER_PROCESS,
            PYTHONDONTWRITEBYTECODE: "1",
            PYTHONPATH: (options.pythonPath ?? []).join(path.delimiter),
            PATH: [path.dirname(python()), process.env.PATH].filter(Boolean).join(path.delimiter),
        },
    });
}

/**
 * Runs `python -m unittest discover -s tests -t .` in `dir` (the directory is the top level, so its modules import
 * by their own names, as when they run as scripts) and asserts it ran tests and passed.
 */
export function assertUnittestPasses(dir: string, pythonPath: readonly string[] = []): void {
    const run = runPython(["-m", "unittest", "discover", "-s", "tests", "-t", "."], { cwd: dir, pythonPath });
    assert.ifError(run.error);
    assert.equal(
        run.status,
        0,
        `unittest failed in ${path.relative(PROJECT_ROOT, dir)}:\n${run.stderr}\n${run.stdout}`,
    );
    assert.match(run.stderr, /^Ran [1-9]\d* tests?/m);
    assert.match(run.stderr, /^OK/m);
}
