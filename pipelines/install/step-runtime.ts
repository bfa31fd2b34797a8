import * as fs from "node:fs";
import * as path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PART_OF, PIPELINES_NAMESPACE, PIPELINE_SERVICE_ACCOUNTS } from "../../contract/names";
import { IMAGES } from "../../contract/versions";
import type { Scheduling } from "../../contract/platform";
import { LIB_CONFIGMAP, LIB_PATH, RESOURCES, SETTINGS_CONFIGMAP, libraryVolume } from "../core/context";
import {
    PLATFORMS,
    POD_SECURITY_EXCEPTION,
    RUNTIME_PACKAGE_SETS,
    TARGET_PLATFORMS,
    fetchPackagesCommand,
    runtimeContainerfile,
    runtimeRequirements,
    runtimeTag,
    type PackageSet,
    type TargetArch,
} from "../core/runtime";

/** The shared build script (multi-platform build and push of a COPY-only context), beside the build-image Task. */
const BUILD_SCRIPT = "build-push.sh";
const BUILD_SCRIPT_PATH = path.join(__dirname, "..", "tasks", "build-image", BUILD_SCRIPT);
/** Where the build pod mounts the build context ConfigMap and assembles the context with the fetched packages. */
const CONTEXT_MOUNT = "/runtime-context";
const BUILD_DIR = "/build";
const AUTH_FILE = `${BUILD_DIR}/auth.json`;
/** Fetching and logging in need nothing of root: they run restricted. */
const NON_ROOT = {
    runAsNonRoot: true,
    runAsUser: 65532,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"] },
};

/** The build context ConfigMap's data: Containerfile, the pin files and the build script. */
export function runtimeContextFiles(): Record<string, string> {
    return {
        Containerfile: runtimeContainerfile(),
        ...runtimeRequirements(),
        [BUILD_SCRIPT]: fs.readFileSync(BUILD_SCRIPT_PATH, "utf8"),
    };
}

/**
 * The fetch container's script: the context files into the build directory, then every package set for every target
 * platform with pip's cross-platform options (the one pip of the testbed outside a model's own build tools).
 */
export function fetchPackagesScript(): string {
    const lines = ["set -eu", `cp ${CONTEXT_MOUNT}/* ${BUILD_DIR}/`];
    for (const arch of Object.keys(TARGET_PLATFORMS) as TargetArch[])
        for (const set of Object.keys(RUNTIME_PACKAGE_SETS) as PackageSet[])
            lines.push(fetchPackagesCommand(arch, set, BUILD_DIR).join(" "));
    return lines.join("\n") + "\n";
}

/**
 * The login container's script: the registry credentials for the push, written by the library's login
 * (mlops_steps.registry, as REGISTRY_LOGIN says) with the store and registry clients just fetched for this node's
 * architecture.
 */
export function registryLoginScript(): string {
    const arches = Object.entries(TARGET_PLATFORMS)
        .map(([arch, p]) => `${p.wheelArch}) arch=${arch} ;;`)
        .join(" ");
    return [
        "set -eu",
        `case "$(uname -m)" in ${arches} *) echo "no runtime packages for $(uname -m)" >&2; exit 1 ;; esac`,
        `PYTHONPATH=${LIB_PATH}:${BUILD_DIR}/packages/$arch/step-runtime exec python -m mlops_steps.registry ${AUTH_FILE}`,
        "",
    ].join("\n");
}

export interface StepRuntimeArgs {
    /** The testbed's image repository (the platform's registry): the runtime is pushed there under its content tag. */
    readonly repositoryUrl: pulumi.Input<string>;
    /** Where the build pod runs (the system nodes). */
    readonly scheduling: Scheduling;
    /** Labels the builder's cloud identity needs on its pods (AKS workload identity); none elsewhere. */
    readonly podLabels?: Readonly<Record<string, string>>;
    /** Secret with the builder's cloud credentials, on platforms whose identity hands out keys. */
    readonly credentialsSecret?: pulumi.Input<string>;
    /** The pipelines namespace, service accounts, settings and library ConfigMaps the build pod uses. */
    readonly dependsOn: pulumi.Input<pulumi.Resource>[];
}

/**
 * The step runtime, built once at install time: a ConfigMap with its build context and a Job, named after the content
 * tag, that fetches the packages for every platform, logs in with the builder's identity and pushes a manifest list.
 * Pulumi waits for the Job to complete, so the Tasks (which depend on it) never name an image that is not there; an
 * unchanged tag is the same Job, so nothing is rebuilt; a changed one is a new Job and a new image.
 */
export class StepRuntime extends pulumi.ComponentResource {
    /** The runtime's image reference (repository:content tag). */
    readonly image: pulumi.Output<string>;
    /** The build Job, complete when the image is pushed. */
    readonly build: k8s.batch.v1.Job;

    constructor(name: string, args: StepRuntimeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlops-testbed:pipelines:StepRuntime", name, {}, opts);
        const tag = runtimeTag();
        const labels = { "app.kubernetes.io/part-of": PART_OF, "app.kubernetes.io/component": "step-runtime" };
        this.image = pulumi.interpolate`${args.repositoryUrl}:${tag}`;
        const context = new k8s.core.v1.ConfigMap(
            `${name}-context`,
            {
                metadata: { name: `step-${tag}`, namespace: PIPELINES_NAMESPACE, labels },
                data: runtimeContextFiles(),
            },
            { parent: this, dependsOn: args.dependsOn },
        );
        const envFrom = [
            { configMapRef: { name: SETTINGS_CONFIGMAP } },
            ...(args.credentialsSecret ? [{ secretRef: { name: args.credentialsSecret } }] : []),
        ];
        const build = { name: "build", mountPath: BUILD_DIR };
        const library = libraryVolume("lib").configMap!;
        this.build = new k8s.batch.v1.Job(
            `${name}-build`,
            {
                metadata: {
                    name: `build-${tag}`,
                    namespace: PIPELINES_NAMESPACE,
                    labels,
                    // buildah runs as root (vfs storage, chroot isolation; nothing privileged): baseline, which the
                    // namespace enforces, not restricted, at which it warns. The build-image Task's step is the same.
                    annotations: { [POD_SECURITY_EXCEPTION]: "build-push" },
                },
                spec: {
                    backoffLimit: 2,
                    template: {
                        metadata: { labels: { ...labels, ...args.podLabels } },
                        spec: {
                            serviceAccountName: PIPELINE_SERVICE_ACCOUNTS.builder.name,
                            restartPolicy: "Never",
                            securityContext: { seccompProfile: { type: "RuntimeDefault" } },
                            nodeSelector: { ...args.scheduling.nodeSelector },
                            tolerations: args.scheduling.tolerations.map((t) => ({ ...t })),
                            volumes: [
                                { name: "context", configMap: { name: context.metadata.name } },
                                { name: "lib", configMap: { name: LIB_CONFIGMAP, items: [...(library.items ?? [])] } },
                                { name: "build", emptyDir: {} },
                            ],
                            initContainers: [
                                {
                                    name: "fetch-packages",
                                    image: IMAGES.python,
                                    command: ["sh", "-c", fetchPackagesScript()],
                                    // pip needs a writable home; the image's is root's.
                                    env: [{ name: "HOME", value: "/tmp" }],
                                    volumeMounts: [
                                        { name: "context", mountPath: CONTEXT_MOUNT, readOnly: true },
                                        build,
                                    ],
                                    resources: RESOURCES.python,
                                    securityContext: NON_ROOT,
                                },
                                {
                                    name: "registry-login",
                                    image: IMAGES.python,
                                    command: ["sh", "-c", registryLoginScript()],
                                    envFrom,
                                    env: [{ name: "HOME", value: "/tmp" }],
                                    volumeMounts: [{ name: "lib", mountPath: LIB_PATH, readOnly: true }, build],
                                    resources: RESOURCES.small,
                                    securityContext: NON_ROOT,
                                },
                            ],
                            containers: [
                                {
                                    name: "build-push",
                                    image: IMAGES.buildah,
                                    command: ["sh", `${BUILD_DIR}/${BUILD_SCRIPT}`],
                                    envFrom,
                                    env: [
                                        { name: "CONTEXT", value: BUILD_DIR },
                                        { name: "AUTH_FILE", value: AUTH_FILE },
                                        { name: "PLATFORMS", value: PLATFORMS },
                                        { name: "IMAGE", value: this.image },
                                        { name: "BASE_FROM_REGISTRY", value: "false" },
                                        { name: "DIGEST_FILE", value: `${BUILD_DIR}/digest` },
                                        // The tag is the content's hash: a stack recreated beside the repository it
                                        // kept finds its runtime there (ECR would refuse the immutable tag again).
                                        { name: "SKIP_IF_PRESENT", value: "true" },
                                    ],
                                    volumeMounts: [build],
                                    resources: RESOURCES.build,
                                    securityContext: { allowPrivilegeEscalation: false },
                                },
                            ],
                        },
                    },
                },
            },
            // Fetching two platforms' wheels and building both images with vfs takes longer than the default 10 min.
            { parent: this, dependsOn: [context], customTimeouts: { create: "30m", update: "30m" } },
        );
        this.registerOutputs({ image: this.image });
    }
}
