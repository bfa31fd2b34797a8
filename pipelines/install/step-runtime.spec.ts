import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { PIPELINES_NAMESPACE } from "../../contract/names";
import { IMAGES, TESTBED_BUILT_IMAGES } from "../../contract/versions";
import { findResource, planStack, resourcesOfType } from "../../test/harness";
import { objectsOfKind } from "../../test/k8s-objects";
import type { Json } from "../../test/json";
import type { Plan } from "../../tools/mock-runtime";
import { PROJECT_ROOT } from "../../tools/stack";
import { declaredPodSecurityException } from "../../tools/cluster/kube";
import { POD_SECURITY_EXCEPTION, STEP_RUNTIME } from "../core/runtime";
import {
    KUBE_CLIENT_PATH,
    PLATFORMS,
    RUNTIME_PACKAGE_SETS,
    RUNTIME_REQUIREMENTS,
    STEP_RUNTIME_PATH,
    fetchPackagesCommand,
    runtimeContainerfile,
    runtimePythonVersion,
    runtimeRequirements,
    runtimeTag,
    wheelPlatforms,
} from "../core/runtime";
import { fetchPackagesScript, runtimeContextFiles } from "./step-runtime";

/** A pip install or download in a command line or script: `pip install`, `pip3 download`, `python -m pip install`. */
const PIP = /\bpip3?(\.exe)?\s+(install|download|wheel)\b/;

/** Every command and script a pod of `obj` runs, by `<kind> <name>/<container or step>`. */
function commandsOf(obj: Json): [string, string][] {
    const out: [string, string][] = [];
    const what = `${obj.kind} ${obj.metadata.name}`;
    const walk = (o: Json): void => {
        if (Array.isArray(o)) return o.forEach(walk);
        if (!o || typeof o !== "object") return;
        if (typeof o.image === "string" && typeof o.name === "string")
            out.push([
                `${what}/${o.name}`,
                [o.script ?? "", ...(o.command ?? []), ...(o.args ?? [])]
                    .filter((x) => typeof x === "string")
                    .join(" "),
            ]);
        Object.values(o).forEach(walk);
    };
    walk(obj.spec);
    return out;
}

/** Pods' commands of the pipelines namespace that pip-install, except the one build that makes the runtime. */
function pipInstalls(objects: readonly Json[]): string[] {
    return objects
        .flatMap(commandsOf)
        .filter(([, text]) => PIP.test(text))
        .map(([where]) => where)
        .filter((where) => !/^Job build-runtime-[0-9a-f]{16}\/fetch-packages$/.test(where));
}

describe("step runtime: built once at install time, the image every Python step runs on", () => {
    let plan: Plan;
    let podObjects: Json[];
    before(async () => {
        plan = await planStack("dev");
        podObjects = ["Task", "CronJob", "Job", "Deployment"].flatMap((k) =>
            objectsOfKind(plan, k, PIPELINES_NAMESPACE),
        );
    });

    it("no step, pruner or other pod of the pipelines pip-installs anything, except the runtime's own build", () => {
        const tasks = objectsOfKind(plan, "Task", PIPELINES_NAMESPACE);
        assert.ok(tasks.length >= 12, "every Task is in the plan");
        assert.equal(objectsOfKind(plan, "CronJob", PIPELINES_NAMESPACE).length, 1, "the run pruner");
        assert.deepEqual(pipInstalls(podObjects), []);
        // The exception is really there (the check sees pip where it is) and only there.
        const fetch = podObjects
            .flatMap(commandsOf)
            .filter(([, text]) => PIP.test(text))
            .map(([w]) => w);
        assert.deepEqual(fetch, [`Job build-${runtimeTag()}/fetch-packages`]);
    });

    it("the pip check fails on a step that installs at run time", () => {
        const task = structuredClone(objectsOfKind(plan, "Task", PIPELINES_NAMESPACE)[0]) as Json;
        task.spec.steps.push({ name: "sneaky", image: IMAGES.python, script: "#!/bin/sh\npython -m pip install x\n" });
        assert.deepEqual(pipInstalls([task]), [`Task ${task.metadata.name}/sneaky`]);
        const pruner = structuredClone(objectsOfKind(plan, "CronJob", PIPELINES_NAMESPACE)[0]) as Json;
        pruner.spec.jobTemplate.spec.template.spec.initContainers = [
            { name: "deps", image: IMAGES.python, command: ["sh", "-c", "pip3 download -d /x y"] },
        ];
        assert.deepEqual(pipInstalls([pruner]), ["CronJob run-pruner/deps"]);
    });

    it("every Python step and the pruner run on the runtime, named by its content tag in the testbed's registry", () => {
        const settings = objectsOfKind(plan, "ConfigMap", PIPELINES_NAMESPACE).find(
            (c) => c.metadata.name === "pipeline-settings",
        )!;
        const image = `${settings.data.IMAGE_REPOSITORY}:${runtimeTag()}`;
        let onRuntime = 0;
        for (const t of objectsOfKind(plan, "Task", PIPELINES_NAMESPACE))
            for (const s of t.spec.steps as Json[]) {
                assert.notEqual(s.image, STEP_RUNTIME, `${t.metadata.name}/${s.name}: the marker is replaced`);
                assert.notEqual(s.image, IMAGES.python, `${t.metadata.name}/${s.name}: not the bare Python image`);
                if (s.image === image) onRuntime++;
                else
                    assert.ok(
                        [IMAGES.git, IMAGES.buildah, IMAGES.node].includes(s.image),
                        `${t.metadata.name}/${s.name}`,
                    );
            }
        assert.ok(onRuntime > 20, `${onRuntime} steps on the runtime`);
        const pruner = objectsOfKind(plan, "CronJob", PIPELINES_NAMESPACE)[0];
        const pod = pruner.spec.jobTemplate.spec.template.spec;
        assert.deepEqual(
            pod.containers.map((c: Json) => c.image),
            [image],
        );
        assert.equal(pod.initContainers, undefined, "no install before the pruner");
        assert.equal(
            pod.containers[0].env.find((e: Json) => e.name === "PYTHONPATH").value,
            `/opt/pipeline-lib:${KUBE_CLIENT_PATH}`,
        );
        // The model-server image is built on the runtime: build-image's prepare step gets it as the base.
        const build = objectsOfKind(plan, "Task", PIPELINES_NAMESPACE).find((t) => t.metadata.name === "build-image")!;
        const prepare = (build.spec.steps as Json[]).find((s) => s.name === "prepare")!;
        assert.equal(prepare.env.find((e: Json) => e.name === "BASE_IMAGE").value, image);
    });

    it("the Tasks and the pruner wait for the build Job, which Pulumi awaits to completion", () => {
        const job = findResource(plan, "kubernetes:batch/v1:Job", "tekton-runtime-build");
        assert.equal(job.parent, findResource(plan, "mlops-testbed:pipelines:StepRuntime", "tekton-runtime").urn);
        assert.equal((job.inputs as Json).metadata.name, `build-${runtimeTag()}`);
        const tasks = resourcesOfType(plan, "kubernetes:tekton.dev/v1:Task");
        assert.ok(tasks.length >= 12);
        for (const t of tasks) assert.ok(t.dependsOn.includes(job.urn), `${t.name} depends on the build`);
        const pruner = findResource(plan, "kubernetes:batch/v1:CronJob", "tekton-pruner");
        assert.ok(pruner.dependsOn.includes(job.urn));
        // The build runs as the builder (its registry push identity) on the system nodes.
        const pod = (job.inputs as Json).spec.template.spec;
        assert.equal(pod.serviceAccountName, "builder");
        assert.deepEqual(
            pod.initContainers.map((c: Json) => c.name),
            ["fetch-packages", "registry-login"],
        );
        assert.deepEqual(
            pod.containers.map((c: Json) => [c.name, c.image]),
            [["build-push", IMAGES.buildah]],
        );
    });

    it("the build pod runs restricted but for buildah, which it declares; the local tiers accept exactly that", () => {
        const job = objectsOfKind(plan, "Job", PIPELINES_NAMESPACE).find((j) => j.metadata.name?.startsWith("build-"))!;
        assert.equal(job.metadata.annotations?.[POD_SECURITY_EXCEPTION], "build-push");
        const pod = job.spec.template.spec;
        assert.equal(pod.securityContext.seccompProfile.type, "RuntimeDefault");
        for (const c of pod.initContainers)
            assert.deepEqual(c.securityContext, {
                runAsNonRoot: true,
                runAsUser: 65532,
                allowPrivilegeEscalation: false,
                capabilities: { drop: ["ALL"] },
            });
        // The API's warning for such a pod (kube-apiserver 1.34's wording), and what else it could say.
        const only = (names: string) =>
            `would violate PodSecurity "restricted:latest": unrestricted capabilities (${names} must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or ${names} must set securityContext.runAsNonRoot=true)`;
        assert.ok(declaredPodSecurityException(job, only('container "build-push"')));
        assert.ok(!declaredPodSecurityException(job, only('containers "fetch-packages", "build-push"')));
        assert.ok(!declaredPodSecurityException(job, 'would violate PodSecurity "restricted:latest": host namespaces'));
        assert.ok(!declaredPodSecurityException(job, "spec.template: unknown field"));
        const undeclared = { ...job, metadata: { ...job.metadata, annotations: {} } };
        assert.ok(!declaredPodSecurityException(undeclared, only('container "build-push"')));
    });

    it("the build context: a Containerfile that only COPYs, the repository's pin files and the shared build script", () => {
        const files = runtimeContextFiles();
        assert.deepEqual(
            Object.keys(files).sort(),
            ["Containerfile", "build-push.sh", ...Object.keys(RUNTIME_REQUIREMENTS)].sort(),
        );
        for (const [name, file] of Object.entries(RUNTIME_REQUIREMENTS))
            assert.equal(files[name as keyof typeof files], fs.readFileSync(path.join(PROJECT_ROOT, file), "utf8"));
        const instructions = runtimeContainerfile()
            .split("\n")
            .filter((l) => l.trim() !== "")
            .map((l) => l.split(" ")[0]);
        assert.deepEqual(instructions, ["FROM", "ARG", "COPY", "COPY", "ENV"]);
        assert.match(runtimeContainerfile(), new RegExp(`^FROM ${IMAGES.python.replace(/[.]/g, "\\.")}\n`));
        for (const [set, p] of Object.entries(RUNTIME_PACKAGE_SETS))
            assert.ok(runtimeContainerfile().includes(`COPY packages/\${TARGETARCH}/${set}/ ${p.path}/`), set);
        assert.equal(STEP_RUNTIME_PATH, "/opt/step-runtime");
    });

    it("fetches each package set for every platform with pip's cross-platform options, wheels only", () => {
        assert.equal(PLATFORMS, "linux/amd64,linux/arm64");
        assert.equal(runtimePythonVersion(), "3.12", "the Python of the pinned image");
        assert.equal(wheelPlatforms("arm64")[0], "manylinux_2_17_aarch64");
        assert.equal(wheelPlatforms("amd64").at(-1), "manylinux_2_36_x86_64", "bookworm's glibc");
        const cmd = fetchPackagesCommand("arm64", "kube-client", "/build").join(" ");
        for (const flag of [
            "--only-binary=:all:",
            "--python-version 3.12",
            "--implementation cp",
            "--abi cp312",
            "--platform manylinux_2_17_aarch64",
            "--no-deps",
            "--target /build/packages/arm64/kube-client",
            "-r /build/requirements-kube.txt",
        ])
            assert.ok(cmd.includes(flag), flag);
        // The library's and the workload's closure from the lock, without the resolver: what the tag names is what
        // the image holds, however PyPI has moved since.
        const lib = fetchPackagesCommand("amd64", "step-runtime", "/build").join(" ");
        assert.ok(lib.includes("--no-deps"), lib);
        // Every file pip fetches must be one whose sha256 the pin file names.
        for (const c of [lib, cmd]) assert.ok(c.includes("--no-deps --require-hashes"), c);
        assert.ok(lib.endsWith(" -r /build/requirements-lock.txt"), lib);
        // The Job's script runs all four.
        assert.equal(
            fetchPackagesScript()
                .split("\n")
                .filter((l) => l.startsWith("python -m pip install")).length,
            4,
        );
    });

    it("the content tag changes with any pin, and only with what goes into the image", () => {
        const base = runtimeRequirements();
        assert.equal(runtimeTag(base), runtimeTag({ ...base }));
        assert.match(runtimeTag(), /^runtime-[0-9a-f]{16}$/);
        // The contract's pattern, by which other layers recognise the runtime, names the tag this function makes.
        assert.match(runtimeTag(), TESTBED_BUILT_IMAGES.runtimeTag);
        for (const name of Object.keys(base) as (keyof typeof base)[])
            assert.notEqual(
                runtimeTag({ ...base, [name]: base[name].replace(/==(\d+)/, "==9$1") }),
                runtimeTag(base),
                name,
            );
    });

    it("the shared build script builds every platform into one manifest list and pushes it with its images", () => {
        const script = fs.readFileSync(path.join(__dirname, "..", "tasks", "build-image", "build-push.sh"), "utf8");
        assert.match(script, /buildah --storage-driver vfs build [^\n]*--platform "\$PLATFORMS"/);
        assert.match(script, /--manifest "\$image" -f "\$CONTEXT\/Containerfile" "\$CONTEXT"/);
        assert.match(
            script,
            /buildah --storage-driver vfs manifest push --all --tls-verify="\$tls_verify" --authfile "\$AUTH_FILE" \\\n\s+--digestfile "\$digest_file" "\$image" "docker:\/\/\$image"/,
        );
        assert.doesNotMatch(script, /\bpip\b/);
    });
});
