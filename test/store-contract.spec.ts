/**
 * The store and registry contract: on every platform, the steps' own code paths (register.py, validate-data's fetch,
 * the model server's fetch-model command, the build step's registry login) work with the settings that platform's
 * plan renders (the `pipeline-settings` ConfigMap: STORE_KIND, buckets, endpoint, region, REGISTRY_LOGIN), against a
 * real API on loopback: moto's S3 server for AWS, Azurite's Blob API for Azure, and the S3 API at a path-style
 * endpoint for an existing cluster (SeaweedFS's settings, and an external store's).
 *
 * What the test substitutes, and only that: where the API is (the rendered endpoint names a cloud or an in-cluster
 * Service; for AWS the SDK's own AWS_ENDPOINT_URL_* variables, for the S3-compatible stores the STORE_ENDPOINT, for
 * Azure a connection string, since Azurite takes keys, not Entra tokens) and the credentials the pods get from their
 * identity. SeaweedFS 4.44 itself cannot be built here (the Go module proxy does not serve that version: see
 * docs/existing-cluster.md), so its settings run against moto's S3 API, which speaks the same protocol.
 */
import * as assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { SETTINGS_CONFIGMAP } from "../pipelines/core/context";
import { PROJECT_ROOT } from "../tools/stack";
import { planStack } from "./harness";
import type { Json } from "./json";
import { objectsOfKind } from "./k8s-objects";
import { python, runPython, STEP_LIBRARY } from "./python";

/** Azurite's well-known development account (its documentation publishes the key; it guards nothing). */
const AZURITE_ACCOUNT = {
    name: "devstoreaccount1",
    key: "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
};
const TENANT = "87654321-4321-4321-4321-210987654321";
const DRIVER = path.join(__dirname, "store-contract", "driver.py");

async function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as net.AddressInfo;
            server.close(() => resolve(port));
        });
        server.on("error", reject);
    });
}

/** The script Azurite's package names as its `azurite-blob` command. */
function azuriteBlobMain(): string {
    const pkg = path.join(PROJECT_ROOT, "node_modules", "azurite");
    const bin = (JSON.parse(fs.readFileSync(path.join(pkg, "package.json"), "utf8")) as { bin: Record<string, string> })
        .bin["azurite-blob"];
    return path.join(pkg, bin);
}

/** Waits until something accepts connections on the port (at most `ms`), or the process exits. */
async function listening(port: number, child: ChildProcess, ms = 60_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
        if (child.exitCode !== null) throw new Error(`server on ${port} exited with ${child.exitCode}`);
        const ok = await new Promise<boolean>((resolve) => {
            const socket = net.connect(port, "127.0.0.1", () => {
                socket.end();
                resolve(true);
            });
            socket.on("error", () => resolve(false));
        });
        if (ok) return;
        await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`nothing listens on 127.0.0.1:${port} after ${ms} ms`);
}

/** Runs the driver with one request; returns its JSON answer. */
function drive(request: Json): Json {
    const run = runPython([DRIVER], {
        cwd: PROJECT_ROOT,
        pythonPath: [STEP_LIBRARY],
        input: JSON.stringify(request),
        timeout: 240_000,
    });
    assert.ifError(run.error);
    assert.equal(run.status, 0, `driver failed:\n${run.stderr}`);
    return JSON.parse(run.stdout);
}

/** The settings ConfigMap a stack's plan renders for the steps. */
async function renderedSettings(stack: string): Promise<Record<string, string>> {
    const plan = await planStack(stack);
    const [cm] = objectsOfKind(plan, "ConfigMap", "pipelines").filter((c) => c.metadata.name === SETTINGS_CONFIGMAP);
    assert.ok(cm, `${stack} renders ${SETTINGS_CONFIGMAP}`);
    return cm.data as Record<string, string>;
}

describe("store and registry contract: the steps' code paths on every platform, against real APIs on loopback", function () {
    this.timeout(600_000);
    const servers: ChildProcess[] = [];
    let s3: string;
    let blobPort: number;
    /** Per platform: its rendered settings, and the step's environment (the settings and what the test puts locally). */
    const stepEnvs = new Map<string, { settings: Record<string, string>; env: Record<string, string> }>();

    before(async () => {
        const [s3Port, azuritePort] = [await freePort(), await freePort()];
        blobPort = azuritePort;
        const moto = spawn(
            path.join(path.dirname(python()), "moto_server"),
            ["-H", "127.0.0.1", "-p", String(s3Port)],
            {
                stdio: "ignore",
            },
        );
        // Azurite on this Node (its bin's shebang would take whatever node is first on PATH), without the specs'
        // NODE_OPTIONS (tsx's loader, which Azurite's compiled JavaScript does not need) and without loading the
        // telemetry SDK that --disableTelemetry leaves unused.
        const azurite = spawn(
            process.execPath,
            [
                "--require",
                path.join(__dirname, "store-contract", "azurite-no-telemetry.cjs"),
                azuriteBlobMain(),
                "--blobHost",
                "127.0.0.1",
                "--blobPort",
                String(azuritePort),
                "--inMemoryPersistence",
                "--silent",
                "--skipApiVersionCheck",
                "--disableTelemetry",
            ],
            { stdio: "ignore", env: { ...process.env, NODE_OPTIONS: "" } },
        );
        servers.push(moto, azurite);
        await Promise.all([listening(s3Port, moto), listening(azuritePort, azurite)]);
        s3 = `http://127.0.0.1:${s3Port}`;
        for (const [name, p] of Object.entries(PLATFORMS)) {
            const settings = await renderedSettings(p.stack);
            stepEnvs.set(name, { settings, env: { ...settings, ...p.local(settings) } });
        }
        // Every platform's buckets exist before its steps run (the platform or the store's owner creates them, the
        // steps cannot): created here, in one process apart from the steps' processes.
        const envs = [...stepEnvs.values()].map((e) => e.env);
        const created = drive({ action: "setup", envs }) as { buckets: string[] }[];
        assert.equal(created.length, envs.length);
    });

    after(async () => {
        // Waits for each server to exit (killed after 10 s of SIGTERM), so that its CPU counts towards this spec's.
        await Promise.all(
            servers
                .filter((child) => child.exitCode === null && child.signalCode === null)
                .map(
                    (child) =>
                        new Promise<void>((resolve) => {
                            const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
                            child.once("exit", () => {
                                clearTimeout(timer);
                                resolve();
                            });
                            child.kill();
                        }),
                ),
        );
    });

    /** Each platform's stack and what the test puts where the rendered settings point at a cloud or a Service. */
    const PLATFORMS: Record<string, { stack: string; local: (s: Record<string, string>) => Record<string, string> }> = {
        "AWS (S3, ECR)": {
            stack: "dev",
            local: () => ({
                AWS_ENDPOINT_URL_S3: s3,
                AWS_ENDPOINT_URL_ECR: s3,
                AWS_ACCESS_KEY_ID: "contract-test",
                AWS_SECRET_ACCESS_KEY: "contract-test",
            }),
        },
        "Azure (Blob, ACR)": {
            stack: "azure-example",
            local: () => ({
                AZURE_STORAGE_CONNECTION_STRING:
                    `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT.name};AccountKey=${AZURITE_ACCOUNT.key};` +
                    `BlobEndpoint=http://127.0.0.1:${blobPort}/${AZURITE_ACCOUNT.name};`,
            }),
        },
        "existing cluster (SeaweedFS's S3 API)": {
            stack: "existing-example",
            // A host name, as in the cluster (the adapter asks for path-style requests: a bucket as a host name would
            // not resolve there).
            local: () => ({
                STORE_ENDPOINT: s3.replace("127.0.0.1", "localhost"),
                AWS_ACCESS_KEY_ID: "contract-test",
                AWS_SECRET_ACCESS_KEY: "contract-test",
                AWS_REGION: "us-east-1",
            }),
        },
        "existing cluster (an external S3-compatible store)": {
            stack: "existing-shared-example",
            local: () => ({
                STORE_ENDPOINT: s3.replace("127.0.0.1", "localhost"),
                AWS_ACCESS_KEY_ID: "contract-test",
                AWS_SECRET_ACCESS_KEY: "contract-test",
            }),
        },
    };

    const ADAPTER: Record<string, string> = { s3: "S3Store", "s3-compatible": "S3Store", "azure-blob": "BlobStore" };

    for (const name of Object.keys(PLATFORMS)) {
        it(`${name}: register, @latest, fetch-model, validate-data's newest dataset, paging, no delete, registry login`, async () => {
            const { settings, env } = stepEnvs.get(name)!;
            const r = drive({
                action: "steps",
                env,
                tasks: path.join(PROJECT_ROOT, "pipelines", "tasks"),
                model_src: path.join(PROJECT_ROOT, "pipelines", "workload"),
                acr_tenant: TENANT,
            });
            assert.equal(r.adapter, ADAPTER[settings.STORE_KIND], "the adapter the rendered STORE_KIND picks");
            assert.deepEqual(r.methods, ["download_file", "objects", "upload_file", "version"], "nothing deletes");
            // Builds are immutable: the same build again is refused; a later one is a new prefix.
            assert.deepEqual(r.register.first, [0, "19700101T000000Z-aaaaaaa"]);
            assert.equal(r.register.again[0], 1);
            assert.match(r.register.again[1], /already exists; model versions are immutable/);
            assert.deepEqual(r.register.second, [0, "19700101T010000Z-bbbbbbb"]);
            assert.equal(r.latest, "models/iris/v1/19700101T010000Z-bbbbbbb/metrics.json");
            // The init container's command fetches the newest build.
            assert.equal(r.fetch.code, 0, r.fetch.stderr);
            assert.deepEqual(r.fetch.files, ["metrics.json", "model-card.json", "model.joblib", "params.json"]);
            assert.equal(r.fetch.build, "19700101T010000Z-bbbbbbb");
            // Listing two per page reads every page; validate-data takes the newest of the five.
            assert.deepEqual(
                r.listing.keys,
                [1, 2, 3, 4, 5].map((i) => `iris/2026-11-2${i}/train.csv`),
            );
            assert.ok(r.listing.pages >= 3, `${r.listing.pages} pages for five objects, two per page`);
            assert.match(r.dataset.first_row, /^4\.0,/, "the last dataset written");
            assert.equal(r.overwrite_refused, settings.STORE_KIND === "azure-blob", "Blob refuses to overwrite");
            assert.ok(r.dataset.version.length > 0);
            // The registry login the platform's REGISTRY_LOGIN picks.
            const host = settings.IMAGE_REPOSITORY.split("/")[0];
            const login = settings.REGISTRY_LOGIN;
            if (login === "none") assert.deepEqual(r.registry, { hosts: [], user: null });
            else
                assert.deepEqual(r.registry, {
                    hosts: [host],
                    user: login === "ecr" ? "AWS" : "00000000-0000-0000-0000-000000000000",
                });
        });
    }

    it("the platforms render the logins and adapters this test covers", async () => {
        // One plan at a time: the mock runtime is process-wide.
        const rendered: Record<string, string>[] = [];
        for (const p of Object.values(PLATFORMS)) rendered.push(await renderedSettings(p.stack));
        assert.deepEqual(
            rendered.map((s) => [s.STORE_KIND, s.REGISTRY_LOGIN]),
            [
                ["s3", "ecr"],
                ["azure-blob", "acr"],
                ["s3-compatible", "none"],
                ["s3-compatible", "none"],
            ],
        );
    });
});
