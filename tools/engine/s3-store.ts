/**
 * The existing cluster's external S3-compatible store, on loopback: moto's S3 server from the project's Python
 * environment (the store contract test's server), with the stack's two buckets and a few objects standing for model
 * builds and datasets, so the engine tier can show that no step of `pulumi up` or `destroy` touches store data.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as net from "node:net";
import * as path from "node:path";
import { PROJECT_ROOT } from "../stack";

/** The project's Python environment (tools/python-env.sh builds it once into the cache). */
function venv(): string {
    const r = spawnSync("bash", [path.join(PROJECT_ROOT, "tools", "python-env.sh"), "path"], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`tools/python-env.sh path failed: ${r.stderr}`);
    return r.stdout.trim();
}

async function freePort(host: string): Promise<number> {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.once("error", reject);
        srv.listen(0, host, () => {
            const port = (srv.address() as net.AddressInfo).port;
            srv.close(() => resolve(port));
        });
    });
}

export interface S3Store {
    readonly endpoint: string;
    readonly keys: { readonly accessKeyId: string; readonly secretAccessKey: string };
    /** Every object of the buckets as `<bucket>/<key> <etag>`, sorted. */
    objects(buckets: readonly string[]): string[];
    /** Puts `key` with `body` into `bucket`. */
    put(bucket: string, key: string, body: string): void;
    stop(): void;
}

/** Starts moto's S3 server on `host` (loopback) and creates the buckets. */
export async function startS3Store(host: string, buckets: readonly string[]): Promise<S3Store> {
    if (!host.startsWith("127.")) throw new Error(`the store must listen on loopback, not ${host}`);
    const dir = venv();
    const port = await freePort(host);
    const server: ChildProcess = spawn(path.join(dir, "bin", "moto_server"), ["-H", host, "-p", String(port)], {
        stdio: "ignore",
    });
    const endpoint = `http://${host}:${port}`;
    // moto accepts any keys; these are the ones the cluster's Secret carries, as a real store's would be.
    const keys = { accessKeyId: "AKIAENGINETIERSTORE0", secretAccessKey: "engine-tier-store-secret-key-not-real" };
    const py = (code: string, ...args: string[]) => {
        const r = spawnSync(path.join(dir, "bin", "python"), ["-c", code, ...args], {
            encoding: "utf8",
            env: {
                ...process.env,
                AWS_ACCESS_KEY_ID: keys.accessKeyId,
                AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
                AWS_DEFAULT_REGION: "us-east-1",
            },
        });
        if (r.status !== 0) throw new Error(`S3 client failed: ${r.stderr}`);
        return r.stdout;
    };
    const client = `import boto3, sys\ns3 = boto3.client("s3", endpoint_url="${endpoint}")\n`;
    const deadline = Date.now() + 30_000;
    for (;;) {
        try {
            py(`${client}s3.list_buckets()`);
            break;
        } catch (e) {
            if (Date.now() > deadline || server.exitCode !== null) throw e;
            await new Promise((r) => setTimeout(r, 300));
        }
    }
    for (const b of buckets) py(`${client}s3.create_bucket(Bucket=sys.argv[1])`, b);
    return {
        endpoint,
        keys,
        objects: (bs) =>
            py(
                `${client}for b in sys.argv[1:]:\n    for o in s3.list_objects_v2(Bucket=b).get("Contents", []):\n        print(b + "/" + o["Key"], o["ETag"])`,
                ...bs,
            )
                .trim()
                .split("\n")
                .filter(Boolean)
                .sort(),
        put: (bucket, key, body) =>
            void py(
                `${client}s3.put_object(Bucket=sys.argv[1], Key=sys.argv[2], Body=sys.argv[3].encode())`,
                bucket,
                key,
                body,
            ),
        stop: () => {
            if (server.pid !== undefined && server.exitCode === null) process.kill(server.pid);
        },
    };
}
