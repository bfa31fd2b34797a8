import * as assert from "node:assert/strict";
import { EKS_ADDONS, TEKTON } from "../../contract/versions";
import { findResource, planStack, resourcesOfType } from "../../test/harness";
import type { Json } from "../../test/json";
import { kubernetesResources } from "../../test/k8s-objects";
import type { Plan } from "../../tools/mock-runtime";
import { GPU_ONLY_RELEASES, RELEASE_SYSTEM_IMAGES, SYSTEM_IMAGE_PLATFORMS, publishedFor } from "./system-images";

const T = {
    nodeGroup: "aws:eks/nodeGroup:NodeGroup",
    release: "kubernetes:helm.sh/v3:Release",
    configFile: "kubernetes:yaml/v2:ConfigFile",
    addon: "aws:eks/addon:Addon",
} as const;

/** Every string under a key `image` in `value`, with where it was found. */
function imagesIn(value: unknown, where: string, out: { image: string; where: string }[] = []) {
    if (Array.isArray(value)) value.forEach((v, i) => imagesIn(v, `${where}[${i}]`, out));
    else if (value && typeof value === "object")
        for (const [k, v] of Object.entries(value)) {
            if (k === "image" && typeof v === "string") out.push({ image: v, where: `${where}.${k}` });
            else imagesIn(v, `${where}.${k}`, out);
        }
    return out;
}

/** Whether a release's values pin its pods to GPU nodes (nodeSelector or required node affinity on the GPU label). */
function pinnedToGpuNodes(values: Json): boolean {
    const text = JSON.stringify({ nodeSelector: values.nodeSelector, affinity: values.affinity });
    return /"nvidia\.com\/gpu\.present"/.test(text);
}

let dev: Plan;
before(async function () {
    this.timeout(120_000);
    dev = await planStack("dev");
});

describe("aws: images on arm64 system nodes (dev)", () => {
    it("dev's system node groups run arm64 (Graviton), so every image below must publish linux/arm64", () => {
        for (const name of ["aws-system-ng", "aws-system-fallback-ng"])
            assert.equal(findResource(dev, T.nodeGroup, name).inputs.amiType, "AL2023_ARM_64_STANDARD", name);
    });

    it("every image of the plan's Kubernetes objects (steps, Deployments, CronJobs) is published for linux/arm64", () => {
        const found = kubernetesResources(dev)
            .filter((r) => r.type !== T.release)
            .flatMap((r) => imagesIn(r.inputs, `${r.type} ${r.name}`));
        assert.ok(found.length > 10, "the plan's images were found");
        for (const { image, where } of found)
            assert.equal(publishedFor(image, "linux/arm64"), true, `${image} (${where}) is not listed as arm64`);
    });

    it("every Helm release runs on GPU nodes only or runs listed images, all published for linux/arm64", () => {
        const releases = resourcesOfType(dev, T.release);
        assert.ok(releases.length >= 6);
        for (const r of releases) {
            const key = `${r.inputs.chart}@${r.inputs.version}`;
            const values = (r.inputs.values ?? {}) as Json;
            if (GPU_ONLY_RELEASES.includes(key)) {
                assert.ok(pinnedToGpuNodes(values), `${key} is listed as GPU-only but not pinned to GPU nodes`);
                continue;
            }
            const images = RELEASE_SYSTEM_IMAGES[key];
            assert.ok(images, `${key} (${r.name}) runs on system nodes but has no entry in RELEASE_SYSTEM_IMAGES`);
            for (const image of images)
                assert.equal(publishedFor(image, "linux/arm64"), true, `${key}: ${image} is not listed as arm64`);
            // The table records chart defaults: a release may change an image's tag only where the table follows it.
            for (const { image, where } of imagesIn(values, key)) assert.fail(`${where} sets image ${image}`);
            const overridden = JSON.stringify(values).match(/"image":\{[^}]*\}/g) ?? [];
            for (const o of overridden) {
                const tag = (JSON.parse(`{${o}}`) as { image: { tag?: string; repository?: string } }).image;
                assert.equal(tag.repository, undefined, `${key} overrides an image repository`);
                assert.ok(
                    tag.tag && images.some((i) => i.endsWith(`:${tag.tag}`)),
                    `${key}: tag ${tag.tag} not listed`,
                );
            }
        }
    });

    it("the Tekton releases and the EKS add-ons the plan installs are listed, published for linux/arm64", () => {
        assert.ok(resourcesOfType(dev, T.configFile).length >= 2, "the Tekton release manifests are in the plan");
        assert.ok(resourcesOfType(dev, T.addon).some((a) => a.inputs.addonVersion === EKS_ADDONS.ebsCsiDriver.version));
        for (const key of [
            `tekton-pipelines@${TEKTON.pipelines.version}`,
            `tekton-triggers@${TEKTON.triggers.version}`,
            `eks-addons@${EKS_ADDONS.ebsCsiDriver.version}`,
        ]) {
            assert.ok(RELEASE_SYSTEM_IMAGES[key], key);
            for (const image of RELEASE_SYSTEM_IMAGES[key])
                assert.equal(publishedFor(image, "linux/arm64"), true, `${key}: ${image}`);
        }
    });

    it("the table names a source for every image, and an image it does not list is not taken as arm64", () => {
        for (const [image, entry] of Object.entries(SYSTEM_IMAGE_PLATFORMS)) {
            assert.match(entry.source, /^https:\/\//, image);
            assert.ok(entry.platforms.includes("linux/amd64"), `${image}: the GPU pools and x86 stacks need amd64`);
        }
        assert.equal(publishedFor("docker.io/example/amd64-only:1.0", "linux/arm64"), undefined);
    });

    it("takes the step runtime (built by the testbed for both platforms) by its content tag only", () => {
        const repo = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/mlops-testbed-dev/model-server";
        assert.equal(publishedFor(`${repo}:runtime-0123456789abcdef`, "linux/arm64"), true);
        assert.equal(publishedFor(`${repo}:runtime-0123456789abcdef`, "linux/amd64"), true);
        // A model-server image under another tag, or a look-alike tag, is not known to be multi-arch from its name.
        assert.equal(publishedFor(`${repo}:runtime-latest`, "linux/arm64"), undefined);
        assert.equal(publishedFor(`${repo}:0123abc`, "linux/arm64"), undefined);
        assert.equal(publishedFor("registry.example:5000/runtime-0123456789abcdef", "linux/arm64"), undefined);
    });
});
