import * as assert from "node:assert/strict";
import type { z } from "zod";
import {
    clusterSchema,
    credentialsSecretSchema,
    existingSchema,
    gpuNodePoolSchema,
    gpuNodePoolsSchema,
    networkSchema,
    storeCredentialsSchema,
    systemNodesSchema,
} from "./platform";

/** What a schema refuses in a value: each issue's code, path and message ([] when it accepts the value). */
const issuesOf = (schema: z.ZodType, raw: unknown) => {
    const result = schema.safeParse(raw);
    return result.success ? [] : result.error.issues.map(({ code, path, message }) => ({ code, path, message }));
};
/** An issue of one of the schema's own rules (superRefine and refine add them with code "custom"). */
const custom = (path: (string | number)[], message: string) => ({ code: "custom", path, message });

const SECRET_REF_FORMS =
    "must be <namespace>/<name> of a Secret with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or { namespace, name, accessKeyIdKey, secretAccessKeyKey }";

describe("platform config (contract/config/platform.ts): rules across fields and secret-shaped values", () => {
    describe("node group sizes", () => {
        it("system nodes: refuses minSize above maxSize, and a desiredSize outside the two, each at its key", () => {
            assert.deepEqual(issuesOf(systemNodesSchema, { minSize: 3, maxSize: 2, desiredSize: 2 }), [
                custom(["maxSize"], "maxSize (2) must be >= minSize (3)"),
                custom(["desiredSize"], "desiredSize (2) must lie between minSize (3) and maxSize (2)"),
            ]);
            assert.deepEqual(issuesOf(systemNodesSchema, { minSize: 2, maxSize: 4, desiredSize: 1 }), [
                custom(["desiredSize"], "desiredSize (1) must lie between minSize (2) and maxSize (4)"),
            ]);
            assert.deepEqual(issuesOf(systemNodesSchema, { minSize: 2, maxSize: 4, desiredSize: 5 }), [
                custom(["desiredSize"], "desiredSize (5) must lie between minSize (2) and maxSize (4)"),
            ]);
        });

        it("system nodes: accepts minSize equal to maxSize, and a desiredSize at either bound", () => {
            assert.deepEqual(systemNodesSchema.parse({ minSize: 3, maxSize: 3, desiredSize: 3 }), {
                instanceTypes: ["m6i.large"],
                minSize: 3,
                maxSize: 3,
                desiredSize: 3,
                diskSizeGiB: 50,
                capacityType: "on-demand",
            });
            assert.deepEqual(issuesOf(systemNodesSchema, { minSize: 2, maxSize: 4, desiredSize: 2 }), []);
            assert.deepEqual(issuesOf(systemNodesSchema, { minSize: 2, maxSize: 4, desiredSize: 4 }), []);
        });

        it("GPU pools: refuses minSize above maxSize at maxSize, accepts them equal (a pool of fixed size)", () => {
            const pool = (minSize: number, maxSize: number) => ({
                name: "t4",
                instanceTypes: ["g4dn.xlarge"],
                capacityType: "spot",
                minSize,
                maxSize,
            });
            assert.deepEqual(issuesOf(gpuNodePoolSchema, pool(3, 2)), [
                custom(["maxSize"], "maxSize (2) must be >= minSize (3)"),
            ]);
            assert.deepEqual(issuesOf(gpuNodePoolSchema, pool(2, 2)), []);
        });

        it("GPU pools: a repeated name is refused at the repeating pool's name, the first one is not", () => {
            const pool = (name: string) => ({
                name,
                instanceTypes: ["g5.xlarge"],
                capacityType: "on-demand",
                minSize: 0,
                maxSize: 1,
            });
            assert.deepEqual(issuesOf(gpuNodePoolsSchema, [pool("a10"), pool("l4"), pool("a10")]), [
                custom([2, "name"], 'duplicate pool name "a10"; names must be unique'),
            ]);
        });
    });

    describe("cluster endpoint and network", () => {
        it("a private endpoint refuses public CIDRs other than the default, even listed beside it", () => {
            const message =
                "publicAccessCidrs only applies when endpointAccess is public or public-and-private; remove it or change endpointAccess";
            assert.deepEqual(
                issuesOf(clusterSchema, { endpointAccess: "private", publicAccessCidrs: ["0.0.0.0/0", "10.0.0.0/8"] }),
                [custom(["publicAccessCidrs"], message)],
            );
            assert.deepEqual(issuesOf(clusterSchema, { endpointAccess: "private" }), []);
            assert.deepEqual(
                issuesOf(clusterSchema, { endpointAccess: "private", publicAccessCidrs: ["0.0.0.0/0"] }),
                [],
            );
            assert.deepEqual(
                issuesOf(clusterSchema, { endpointAccess: "public", publicAccessCidrs: ["203.0.113.0/24"] }),
                [],
            );
        });

        it("the network's block must be a /20 or larger: /20 is accepted, /21 refused", () => {
            assert.deepEqual(issuesOf(networkSchema, { cidr: "10.0.0.0/20" }), []);
            assert.deepEqual(issuesOf(networkSchema, { cidr: "10.0.0.0/21" }), [
                custom(["cidr"], "must be a /20 or larger block (e.g. 10.0.0.0/16) to hold the subnets"),
            ]);
        });
    });

    describe("existing cluster", () => {
        it("refuses an image registry on a loopback host, with or without a port; only the host is judged", () => {
            const loopback = custom(
                ["imageRegistry"],
                "is a loopback address, which in the build pod is the pod itself: give the registry's address as pods and nodes reach it (kind's local registry: kind-registry:5000/model-server, with registryTls: http)",
            );
            for (const imageRegistry of [
                "localhost/model-server",
                "localhost:5000/model-server",
                "127.10.20.30:5000/model-server",
                "127.0.0.1/mlops/model-server",
            ])
                assert.deepEqual(issuesOf(existingSchema, { imageRegistry }), [loopback], imageRegistry);
            for (const imageRegistry of [
                "kind-registry:5000/model-server",
                "registry.example.com/localhost/model-server",
                "notlocalhost:5000/model-server",
            ])
                assert.deepEqual(issuesOf(existingSchema, { imageRegistry }), [], imageRegistry);
        });

        it("credentialsSecret: `<namespace>/<name>` or the object form, with the default key names", () => {
            const expected = {
                namespace: "mlops",
                name: "store-keys",
                accessKeyIdKey: "AWS_ACCESS_KEY_ID",
                secretAccessKeyKey: "AWS_SECRET_ACCESS_KEY",
            };
            assert.deepEqual(credentialsSecretSchema.parse("mlops/store-keys"), expected);
            assert.deepEqual(credentialsSecretSchema.parse({ namespace: "mlops", name: "store-keys" }), expected);
            assert.deepEqual(
                credentialsSecretSchema.parse({ namespace: "mlops", name: "store-keys", accessKeyIdKey: "id" }),
                { ...expected, accessKeyIdKey: "id" },
            );
        });

        it("credentialsSecret: a string without exactly one '/' is refused as a whole, naming both forms", () => {
            const refused = { code: "invalid_type", path: [], message: SECRET_REF_FORMS };
            assert.deepEqual(issuesOf(credentialsSecretSchema, "mlops"), [refused]);
            assert.deepEqual(issuesOf(credentialsSecretSchema, "mlops/store/keys"), [refused]);
        });

        it("storeCredentials: records a readable or unreadable value as [secret]; refuses any other shape", () => {
            assert.equal(
                storeCredentialsSchema.parse({ accessKeyId: "AKIAEXAMPLE", secretAccessKey: "s3cr3t" }),
                "[secret]",
            );
            // Offline, an encrypted value reads as "[secret]": accepted, its shape is checked under `pulumi up`.
            assert.equal(storeCredentialsSchema.parse("[secret]"), "[secret]");
            assert.deepEqual(issuesOf(storeCredentialsSchema, "AKIAEXAMPLE:s3cr3t"), [
                { code: "invalid_type", path: [], message: 'must be {"accessKeyId": "...", "secretAccessKey": "..."}' },
            ]);
        });
    });
});
