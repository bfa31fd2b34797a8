/**
 * The study's model gateway matches paths as the Gateway API does (tools/study/roles.ts): PathPrefix by whole path
 * elements, the longest match winning. With a plain string prefix, every request for `iris-b` matched the route of
 * `iris` (listed first), was rewritten to `/-b/predict` and failed at iris's server, and the study's traffic for the
 * other models never arrived (their live accuracy and error rate came out as no data).
 */
import * as assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as FakeTimers from "@sinonjs/fake-timers";
import { modelPathPrefix } from "../../components/models/model-routing";
import type { Kube } from "../cluster/kube";
import {
    EventListener,
    Gateway,
    ImageStore,
    Kubelet,
    pathMatchLength,
    pickByWeight,
    podIp,
    routeRuleFor,
    type FiredRun,
} from "./roles";

const prefix = (value: string) => ({ path: { type: "PathPrefix", value } });
const route = (name: string, ...matches: { path: { type: string; value: string } }[]) => ({
    spec: { rules: [{ name, matches }] },
});

describe("the study's gateway: Gateway API path matching", () => {
    it("matches a PathPrefix by whole path elements, ignoring the prefix's trailing slash", () => {
        assert.equal(pathMatchLength(prefix("/models/iris").path, "/models/iris/predict"), "/models/iris".length);
        assert.equal(pathMatchLength(prefix("/models/iris").path, "/models/iris"), "/models/iris".length);
        assert.equal(pathMatchLength(prefix("/models/iris/").path, "/models/iris/predict"), "/models/iris".length);
        assert.equal(pathMatchLength(prefix("/models/iris").path, "/models/iris-b/predict"), -1);
        assert.equal(pathMatchLength(prefix("/models/iris").path, "/models/irisb"), -1);
        assert.equal(pathMatchLength(prefix("/").path, "/anything"), 0);
        assert.equal(pathMatchLength(undefined, "/anything"), 0, "no path match: PathPrefix /");
        assert.equal(pathMatchLength(prefix("/models/iris//").path, "/models/iris/predict"), "/models/iris".length);
    });

    it("matches an Exact path only as a whole", () => {
        const exact = { type: "Exact", value: "/models/iris/predict" };
        assert.equal(pathMatchLength(exact, "/models/iris/predict"), exact.value.length);
        assert.equal(pathMatchLength(exact, "/models/iris/predict/x"), -1);
        // An Exact match without a value is "/", the Gateway API's default.
        assert.equal(pathMatchLength({ type: "Exact" }, "/"), 1);
        assert.equal(pathMatchLength({ type: "Exact" }, "/models"), -1);
    });

    it("sends each model's requests to its own route whatever the routes' order, the longest match winning", () => {
        const iris = route("iris", prefix(modelPathPrefix("iris")));
        const irisB = route("iris-b", prefix(modelPathPrefix("iris-b")));
        const fallback = route("fallback", prefix("/"));
        for (const routes of [
            [iris, irisB, fallback],
            [fallback, irisB, iris],
        ]) {
            assert.equal(routeRuleFor(routes, `${modelPathPrefix("iris-b")}/predict`)?.rule.name, "iris-b");
            assert.equal(routeRuleFor(routes, `${modelPathPrefix("iris")}/feedback`)?.rule.name, "iris");
            assert.equal(routeRuleFor(routes, "/models/iris-c/predict")?.rule.name, "fallback");
        }
        assert.equal(routeRuleFor([iris, irisB], "/models/iris-c/predict"), undefined);
        assert.equal(
            routeRuleFor([iris], `${modelPathPrefix("iris")}/predict`)?.matched,
            modelPathPrefix("iris").length,
        );
    });

    it("takes the first listed of equal matches; a rule without matches matches every path; a route without rules none", () => {
        const first = route("first", prefix("/models/iris"));
        const second = route("second", prefix("/models/iris/"));
        assert.equal(routeRuleFor([first, second], "/models/iris/predict")?.rule.name, "first");
        assert.equal(routeRuleFor([second, first], "/models/iris/predict")?.rule.name, "second");
        const catchAll = { spec: { rules: [{ name: "catch-all" } as { name: string; matches?: [] }] } };
        assert.deepEqual(routeRuleFor([catchAll], "/models/iris/predict"), { rule: { name: "catch-all" }, matched: 0 });
        assert.equal(routeRuleFor([{ spec: {} }], "/models/iris/predict"), undefined);
    });
});

describe("the study's gateway: backends by weight", () => {
    const b = (name: string, weight: number) => ({ name, weight });

    it("splits [0, 1) among the backends by weight, each boundary going to the next", () => {
        const backends = [b("stable", 3), b("canary", 1)];
        assert.equal(pickByWeight(backends, 0)?.name, "stable");
        assert.equal(pickByWeight(backends, 0.74)?.name, "stable");
        assert.equal(pickByWeight(backends, 0.75)?.name, "canary");
        assert.equal(pickByWeight(backends, 0.99)?.name, "canary");
    });

    it("never picks a weight of 0 or below; none when no backend has weight", () => {
        assert.equal(pickByWeight([b("old", 0), b("new", 1)], 0)?.name, "new");
        assert.equal(pickByWeight([b("old", -5), b("new", 1)], 0.5)?.name, "new");
        assert.equal(pickByWeight([b("new", 1), b("old", -5)], 0.99)?.name, "new");
        assert.equal(pickByWeight([b("old", 0), b("new", 0)], 0.5), undefined);
        assert.equal(pickByWeight([], 0.5), undefined);
    });

    it("gives a draw that rounding leaves past the last boundary to the last backend with weight", () => {
        // 1 - 2^-53 of 0.1 + 0.2 + 0.3 is 0.6000000000000001 less exactly the three weights: nothing is left below 0.
        const backends = [b("a", 0.1), b("b", 0.2), b("c", 0.3), b("off", 0)];
        assert.equal(pickByWeight(backends, 1 - 2 ** -53)?.name, "c");
    });
});

describe("the study's image store and pod addresses", () => {
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "image-store-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    const sha = (text: string) => createHash("sha256").update(text).digest("hex");
    const write = (root: string, files: Record<string, string>) => {
        for (const [f, text] of Object.entries(files)) {
            fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
            fs.writeFileSync(path.join(root, f), text);
        }
        return root;
    };

    it("digests a build context: each file's relative path and content hash, sorted by path", () => {
        const context = write(path.join(dir, "ctx"), { "app/server.py": "serve\n", "app.txt": "A", "a/z.txt": "Z" });
        const expected = createHash("sha256")
            .update(`a/z.txt\0${sha("Z")}\napp.txt\0${sha("A")}\napp/server.py\0${sha("serve\n")}\n`)
            .digest("hex");
        assert.equal(ImageStore.digest(context), expected);
        // The same files written in another order: the same digest.
        const again = write(path.join(dir, "again"), { "a/z.txt": "Z", "app.txt": "A", "app/server.py": "serve\n" });
        assert.equal(ImageStore.digest(again), expected);
        fs.writeFileSync(path.join(again, "app.txt"), "B");
        assert.notEqual(ImageStore.digest(again), expected);
    });

    it("keeps a context under its digest and finds it from an image pinned by that digest only", () => {
        const store = new ImageStore(path.join(dir, "store", "images"));
        assert.ok(fs.statSync(path.join(dir, "store", "images")).isDirectory(), "made when the store is");
        const context = write(path.join(dir, "ctx"), { "app/server.py": "serve\n", "loader.py": "load\n" });
        const digest = store.add(context);
        assert.equal(digest, ImageStore.digest(context));
        const kept = path.join(dir, "store", "images", digest);
        assert.equal(fs.readFileSync(path.join(kept, "app", "server.py"), "utf8"), "serve\n");
        assert.equal(store.context(`registry.local/iris@sha256:${digest}`), kept);
        assert.equal(store.context(`registry.local/iris:latest`), undefined);
        assert.equal(store.context(`registry.local/iris@sha256:${digest}x`), undefined);
        assert.equal(store.context(`registry.local/iris@sha256:${digest.slice(1)}`), undefined);
        assert.equal(store.context(`registry.local/iris@sha256:${"0".repeat(64)}`), undefined, "never built");
        assert.equal(store.add(context), digest, "the same context again");
    });

    it("gives each model namespace its own loopback address, the first 127.0.1.1", () => {
        assert.equal(podIp(0), "127.0.1.1");
        assert.equal(podIp(2), "127.0.1.3");
    });
});

/** A port free on loopback now, for a role that listens on the port it is given. */
async function freePort(): Promise<number> {
    const s = http.createServer();
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    const { port } = s.address() as AddressInfo;
    await new Promise((r) => s.close(r));
    return port;
}

describe("the study's gateway: forwarding", function () {
    // A mutant that leaves a request or a child unanswered fails here rather than at the suite's minute.
    this.timeout(5000);
    /** What each backend namespace received: method, URL and body. */
    let received: { ns: string; method: string; url: string; body: string }[];
    let backends: http.Server[];
    const ports: Record<string, number> = {};
    let routes: unknown[] | Error;
    let listed: string[];
    let gateway: Gateway;
    let url: string;

    beforeEach(async () => {
        received = [];
        listed = [];
        backends = [];
        for (const ns of ["iris-v1", "iris-v2", "iris-shadow"]) {
            const server = http.createServer((req, res) => {
                const parts: Buffer[] = [];
                req.on("data", (d: Buffer) => parts.push(d));
                req.on("end", () => {
                    assert.equal(req.headers["content-type"], "application/json");
                    received.push({ ns, method: req.method!, url: req.url!, body: Buffer.concat(parts).toString() });
                    res.writeHead(ns === "iris-v2" ? 201 : 200).end(`{"from":"${ns}"}`);
                });
            });
            await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
            ports[ns] = (server.address() as AddressInfo).port;
            backends.push(server);
        }
        const kube = {
            async list(apiVersion: string, kind: string, namespace: string) {
                listed.push(`${apiVersion} ${kind} ${namespace}`);
                if (routes instanceof Error) throw routes;
                return routes;
            },
        } as unknown as Kube;
        gateway = new Gateway(kube, "gateway", () => "127.0.0.1");
        const port = await freePort();
        await gateway.listen("127.0.0.1", port);
        url = `http://127.0.0.1:${port}`;
    });
    afterEach(async () => {
        await gateway.close();
        for (const b of backends) await new Promise((r) => b.close(r));
    });

    const ref = (ns: string, weight?: number) => ({ name: "model-server", namespace: ns, port: ports[ns], weight });
    const rule = (prefixValue: string, backendRefs: unknown[], filters?: unknown[]) => ({
        spec: { rules: [{ matches: [prefix(prefixValue)], backendRefs, filters }] },
    });
    const rewrite = {
        type: "URLRewrite",
        urlRewrite: { path: { type: "ReplacePrefixMatch", replacePrefixMatch: "/" } },
    };

    it("reads the routes on each request and forwards it, rewritten past the matched prefix, to the weighted backend", async () => {
        routes = [rule("/models/iris", [ref("iris-v1", 0), ref("iris-v2", 100)], [rewrite])];
        const r = await fetch(`${url}/models/iris/predict?explain=true&k=2`, { method: "POST", body: '{"x":[1,2]}' });
        assert.equal(r.status, 201);
        assert.equal(r.headers.get("content-type"), "application/json");
        assert.equal(await r.text(), '{"from":"iris-v2"}');
        assert.deepEqual(received, [
            { ns: "iris-v2", method: "POST", url: "/predict?explain=true&k=2", body: '{"x":[1,2]}' },
        ]);
        assert.deepEqual(listed, ["gateway.networking.k8s.io/v1 HTTPRoute gateway"]);
        assert.deepEqual([...gateway.served], [["iris-v2", 1]]);
        await fetch(`${url}/models/iris`, { method: "GET" });
        assert.deepEqual(received[1], { ns: "iris-v2", method: "GET", url: "/", body: "" });
        assert.deepEqual([...gateway.served], [["iris-v2", 2]]);
        assert.equal(listed.length, 2);
    });

    it("keeps the path without a URLRewrite, and takes a backend without a weight as weight 1", async () => {
        routes = [rule("/models/iris", [ref("iris-v1")])];
        const r = await fetch(`${url}/models/iris/predict?k=2`, { method: "POST", body: "{}" });
        assert.equal(r.status, 200);
        assert.deepEqual(received, [{ ns: "iris-v1", method: "POST", url: "/models/iris/predict?k=2", body: "{}" }]);
    });

    it("copies a request to a RequestMirror backend as well", async () => {
        const mirror = { type: "RequestMirror", requestMirror: { backendRef: ref("iris-shadow") } };
        // Without a URLRewrite both get the path as sent.
        routes = [rule("/models/iris", [ref("iris-v1", 1)], [mirror])];
        const r = await fetch(`${url}/models/iris/predict`, { method: "POST", body: '{"x":1}' });
        assert.equal(await r.text(), '{"from":"iris-v1"}');
        for (let i = 0; i < 100 && received.length < 2; i++) await new Promise((done) => setTimeout(done, 10));
        assert.deepEqual(
            [...received].sort((a, b) => a.ns.localeCompare(b.ns)),
            [
                { ns: "iris-shadow", method: "POST", url: "/models/iris/predict", body: '{"x":1}' },
                { ns: "iris-v1", method: "POST", url: "/models/iris/predict", body: '{"x":1}' },
            ],
        );
        assert.deepEqual([...gateway.served], [["iris-v1", 1]], "the mirror's copy is not served traffic");
    });

    it("answers 404 without a route, 503 without a backend with weight, 502 when the routes cannot be read", async () => {
        routes = [rule("/models/iris", [ref("iris-v1", 0)])];
        const none = await fetch(`${url}/models/iris-b/predict`, { method: "POST", body: "{}" });
        assert.deepEqual([none.status, await none.text()], [404, "no route"]);
        const noWeight = await fetch(`${url}/models/iris/predict`, { method: "POST", body: "{}" });
        assert.deepEqual([noWeight.status, await noWeight.text()], [503, "no backend with weight"]);
        routes = [{ spec: { rules: [{ matches: [prefix("/models/iris")] }] } }];
        const noBackend = await fetch(`${url}/models/iris/predict`, { method: "POST", body: "{}" });
        assert.deepEqual([noBackend.status, await noBackend.text()], [503, "no backend with weight"]);
        routes = new Error("the API server is not reachable");
        const broken = await fetch(`${url}/models/iris/predict`, { method: "POST", body: "{}" });
        assert.deepEqual([broken.status, await broken.text()], [502, "Error: the API server is not reachable"]);
        assert.deepEqual(received, []);
        assert.deepEqual([...gateway.served], []);
    });

    it("listens no more once closed", async () => {
        await gateway.close();
        await assert.rejects(fetch(`${url}/models/iris/predict`), /fetch failed/);
    });
});

describe("the study's kubelet", function () {
    // A mutant that leaves a request or a child unanswered fails here rather than at the suite's minute.
    this.timeout(5000);
    let dir: string;
    let images: ImageStore;
    let image: string;
    /** The API's objects by `kind/namespace/name`. */
    let objects: Record<string, unknown>;
    let kubelet: Kubelet;
    const targets = () => JSON.parse(fs.readFileSync(path.join(dir, "targets.json"), "utf8"));
    const podDirs = () => fs.readdirSync(path.join(dir, "run", "pods")).map((d) => path.join(dir, "run", "pods", d));
    const until = async (done: () => boolean) => {
        for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
    };
    /** The API as the kubelet reads it: the objects the case put in place. */
    const kube = {
        async read(apiVersion: string, kind: string, name: string, namespace: string) {
            const o = objects[`${apiVersion} ${kind}/${namespace}/${name}`];
            if (!o) throw new Error(`${kind} ${namespace}/${name} not found`);
            return o;
        },
    } as unknown as Kube;
    const deployment = (spec: object, replicas = 1) => ({ spec: { replicas, template: { spec } } });
    const server = (extra: object = {}) => ({ containers: [{ name: "server", image, ...extra }] });

    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "kubelet-"));
        // The image's python: this machine's stand-in records its arguments and working directory, then waits.
        fs.mkdirSync(path.join(dir, "bin"));
        fs.writeFileSync(
            path.join(dir, "bin", "python"),
            '#!/bin/sh\necho "$PWD $*" > "$HOME/python.args"\necho serving\n[ -n "$EXIT" ] && exit "$EXIT"\nexec sleep 30\n',
            { mode: 0o755 },
        );
        images = new ImageStore(path.join(dir, "images"));
        const context = path.join(dir, "ctx");
        fs.mkdirSync(path.join(context, "app"), { recursive: true });
        fs.writeFileSync(path.join(context, "app", "server.py"), "# the server\n");
        image = `registry.local/iris@sha256:${images.add(context)}`;
        objects = {};
        kubelet = new Kubelet(
            kube,
            images,
            path.join(dir, "bin"),
            path.join(dir, "run", "pods"),
            ["iris", "iris-b"],
            path.join(dir, "targets.json"),
        );
    });
    afterEach(async () => {
        await kubelet.stop();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("gives each model namespace its pod address and starts with no targets", () => {
        assert.equal(kubelet.ip("iris"), "127.0.1.1");
        assert.equal(kubelet.ip("iris-b"), "127.0.1.2");
        assert.throws(() => kubelet.ip("gateway"), /^Error: gateway is not a model namespace$/);
        assert.deepEqual(targets(), []);
        assert.ok(fs.statSync(path.join(dir, "run", "pods")).isDirectory());
    });

    it("runs no pod without a Deployment or with 0 replicas, and cannot pull an image it never built", async () => {
        objects["apps/v1 Deployment/iris/model-server"] = deployment(server(), 0);
        await kubelet.sync();
        assert.equal(kubelet.state("iris"), undefined);
        assert.equal(kubelet.state("iris-b"), undefined);
        const unknown = { containers: [{ name: "server", image: "registry.local/iris:latest" }] };
        objects["apps/v1 Deployment/iris-b/model-server"] = deployment(unknown);
        await kubelet.sync();
        assert.deepEqual(kubelet.state("iris-b"), {
            namespace: "iris-b",
            ip: "127.0.1.2",
            image: "registry.local/iris:latest",
            phase: "ErrImagePull",
            message: "unknown image registry.local/iris:latest",
        });
        assert.deepEqual(kubelet.log, ["iris-b: ErrImagePull (unknown image registry.local/iris:latest)"]);
        assert.ok(kubelet.runsTemplate("iris-b", { spec: unknown }));
        assert.ok(!kubelet.runsTemplate("iris", { spec: unknown }));
        assert.deepEqual(targets(), []);
        // The same template again: nothing restarts.
        await kubelet.sync();
        assert.equal(kubelet.log.length, 1);
    });

    it("runs the init containers with the pod's environment and stops at one that fails, with its last line", async () => {
        objects["v1 Secret/iris/store"] = { data: { STORE_KEY: Buffer.from("k3y").toString("base64") } };
        objects["v1 ConfigMap/iris/settings"] = { data: { STORE_URL: "http://store" } };
        const init = {
            name: "download",
            command: ["sh", "-c"],
            args: [
                'echo pulling; echo resolving; echo "$1 $STORE_KEY $STORE_URL $MODEL $POD_NAMESPACE/$OTHER/$EMPTY $PYTHONPATH ' +
                    '$PYTHONUNBUFFERED$PYTHONDONTWRITEBYTECODE $PWD"; exit 3',
                "sh",
                "/model/iris",
            ],
            envFrom: [{ secretRef: { name: "store" } }, { configMapRef: { name: "settings" } }],
            env: [
                { name: "MODEL", value: "iris" },
                { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
                // Neither a value nor the namespace: not set here.
                { name: "OTHER", valueFrom: { secretKeyRef: { name: "store", key: "STORE_KEY" } } },
                { name: "EMPTY" },
            ],
        };
        objects["apps/v1 Deployment/iris/model-server"] = deployment({ ...server(), initContainers: [init] });
        await kubelet.sync();
        const [pod] = podDirs();
        const context = images.context(image)!;
        assert.match(path.basename(pod), /^iris-/);
        assert.deepEqual(kubelet.state("iris"), {
            namespace: "iris",
            ip: "127.0.1.1",
            image,
            phase: "Init:Error",
            message: `download exited 3: ${path.join(pod, "model")}/iris k3y http://store iris iris// ${context}/app 11 ${context}/app`,
        });
        assert.deepEqual(targets(), []);
    });

    it("runs the server with the container's args on the pod's address, lists it as a target, and restarts it on a new template", async () => {
        objects["apps/v1 Deployment/iris/model-server"] = deployment({
            ...server({ args: ["--model-dir", "/model", "--cache", "/srv/model"] }),
            // A command alone, or args alone (the image's entrypoint), is the whole command line: $0 is sh.
            initContainers: [
                { name: "ready", command: ["sh", "-c", '[ "$0" = sh ]'] },
                { name: "args-only", args: ["sh", "-c", '[ "$0" = sh ]'] },
            ],
        });
        // A sync while one runs does nothing: one server starts.
        await Promise.all([kubelet.sync(), kubelet.sync()]);
        assert.deepEqual(kubelet.log, ["iris: Running"]);
        const context = images.context(image)!;
        const state = kubelet.state("iris")!;
        assert.deepEqual(
            { ...state, pid: undefined },
            {
                namespace: "iris",
                ip: "127.0.1.1",
                image,
                phase: "Running",
                pid: undefined,
            },
        );
        assert.ok(Number.isInteger(state.pid));
        assert.deepEqual(targets(), [
            { targets: ["127.0.1.1:9090"], labels: { namespace: "iris", pod: "model-server-iris" } },
        ]);
        const [pod] = podDirs();
        await until(() => fs.existsSync(path.join(pod, "python.args")));
        assert.equal(
            fs.readFileSync(path.join(pod, "python.args"), "utf8"),
            `${context}/app ${context}/app/server.py --model-dir ${path.join(pod, "model")} --cache /srv/model --host 127.0.1.1\n`,
        );
        await until(() => fs.readFileSync(path.join(pod, "server.log"), "utf8") !== "");
        assert.equal(fs.readFileSync(path.join(pod, "server.log"), "utf8"), "serving\n");
        // A new template: the old server is stopped and a new one runs.
        objects["apps/v1 Deployment/iris/model-server"] = deployment(server({ args: ["--workers", "2"] }));
        await kubelet.sync();
        assert.deepEqual(kubelet.log, ["iris: Running", "iris: Running"]);
        assert.notEqual(kubelet.state("iris")!.pid, state.pid);
        await until(() => {
            try {
                process.kill(state.pid!, 0);
                return false;
            } catch {
                return true;
            }
        });
        assert.throws(() => process.kill(state.pid!, 0), /ESRCH/, "the old server was stopped");
        // Replicas 0: the pod stops and is no target any more.
        objects["apps/v1 Deployment/iris/model-server"] = deployment(server({ args: ["--workers", "2"] }), 0);
        await kubelet.sync();
        assert.equal(kubelet.state("iris"), undefined);
        assert.deepEqual(targets(), []);
    });

    it("shows a server that exited as Exited with its code", async () => {
        objects["apps/v1 Deployment/iris/model-server"] = deployment(server({ env: [{ name: "EXIT", value: "4" }] }));
        await kubelet.sync();
        await until(() => kubelet.state("iris")?.phase === "Exited");
        assert.equal(kubelet.state("iris")?.phase, "Exited");
        assert.equal(kubelet.state("iris")?.message, "exit 4");
        const context = images.context(image)!;
        assert.equal(
            fs.readFileSync(path.join(podDirs()[0], "python.args"), "utf8"),
            `${context}/app ${context}/app/server.py --host 127.0.1.1\n`,
        );
    });

    it("kills an init container that outruns its timeout and fails the pod, saying so", async () => {
        const quick = new Kubelet(
            kube,
            images,
            path.join(dir, "bin"),
            path.join(dir, "run", "quick"),
            ["iris"],
            path.join(dir, "quick-targets.json"),
            300,
        );
        objects["apps/v1 Deployment/iris/model-server"] = deployment({
            ...server(),
            initContainers: [{ name: "download", command: ["sh", "-c", "echo waiting for the store; exec sleep 30"] }],
        });
        const start = Date.now();
        try {
            await quick.sync();
            assert.ok(Date.now() - start < 4000, `killed after ${Date.now() - start} ms`);
            assert.deepEqual(quick.state("iris"), {
                namespace: "iris",
                ip: "127.0.1.1",
                image,
                phase: "Init:Error",
                message: "download ran longer than 0.3 s and was killed: waiting for the store",
            });
        } finally {
            await quick.stop();
        }
    });

    it("fails the pod with an init container that cannot start, and names why", async () => {
        objects["apps/v1 Deployment/iris/model-server"] = deployment({
            ...server(),
            initContainers: [{ name: "download", command: [path.join(dir, "no-such-command")] }],
        });
        await kubelet.sync();
        assert.deepEqual(kubelet.state("iris"), {
            namespace: "iris",
            ip: "127.0.1.1",
            image,
            phase: "Init:Error",
            message: `download could not start (spawn ${path.join(dir, "no-such-command")} ENOENT)`,
        });
    });

    it("names the signal that ended an init container", async () => {
        objects["apps/v1 Deployment/iris/model-server"] = deployment({
            ...server(),
            initContainers: [{ name: "download", command: ["sh", "-c", "echo fetching; kill -TERM $$"] }],
        });
        await kubelet.sync();
        assert.equal(kubelet.state("iris")?.message, "download exited SIGTERM: fetching");
    });

    it("shows a server that cannot start as Exited, saying why, and the study goes on", async () => {
        // The image's python is not executable and is the only one on PATH while the pod starts.
        fs.chmodSync(path.join(dir, "bin", "python"), 0o644);
        const saved = process.env.PATH;
        process.env.PATH = path.join(dir, "empty");
        objects["apps/v1 Deployment/iris/model-server"] = deployment(server());
        try {
            await kubelet.sync();
        } finally {
            process.env.PATH = saved;
        }
        await until(() => kubelet.state("iris")?.phase === "Exited");
        assert.equal(kubelet.state("iris")?.phase, "Exited");
        assert.equal(kubelet.state("iris")?.message, "could not start (spawn python EACCES)");
    });

    it("keeps no descriptor of the pods' logs open once their processes have them", async () => {
        const open = () => fs.readdirSync("/proc/self/fd").length;
        objects["apps/v1 Deployment/iris/model-server"] = deployment({
            ...server(),
            initContainers: [
                { name: "first", command: ["true"] },
                { name: "second", command: ["true"] },
            ],
        });
        const before = open();
        await kubelet.sync();
        assert.equal(kubelet.state("iris")?.phase, "Running");
        assert.equal(open(), before);
    });

    it("stops its servers when stopped", async () => {
        objects["apps/v1 Deployment/iris/model-server"] = deployment(server());
        await kubelet.sync();
        const pid = kubelet.state("iris")!.pid!;
        await kubelet.stop();
        assert.equal(kubelet.state("iris"), undefined);
        assert.deepEqual(targets(), []);
        const gone = () => {
            try {
                process.kill(pid, 0);
                return false;
            } catch {
                return true;
            }
        };
        await until(gone);
        assert.ok(gone(), "the server was stopped");
    });

    it("logs a sync that failed while it syncs every second", async () => {
        objects["apps/v1 Deployment/iris/model-server"] = deployment(
            server({ envFrom: [{ secretRef: { name: "missing" } }] }),
        );
        const clock = FakeTimers.install({ toFake: ["setInterval", "clearInterval"] });
        try {
            kubelet.start();
            clock.tick(1000);
            await until(() => kubelet.log.length > 0);
            assert.deepEqual(kubelet.log, ["kubelet: Secret iris/missing not found"]);
        } finally {
            clock.uninstall();
        }
    });

    it("syncs every second once started, and no more once stopped", async () => {
        const clock = FakeTimers.install({ toFake: ["setInterval", "clearInterval"] });
        try {
            kubelet.start();
            objects["apps/v1 Deployment/iris-b/model-server"] = deployment({
                containers: [{ name: "server", image: "registry.local/other:1" }],
            });
            clock.tick(1000);
            await until(() => kubelet.log.length > 0);
            assert.deepEqual(kubelet.log, ["iris-b: ErrImagePull (unknown image registry.local/other:1)"]);
            await kubelet.stop();
            objects["apps/v1 Deployment/iris-b/model-server"] = deployment({
                containers: [{ name: "server", image: "registry.local/other:2" }],
            });
            clock.tick(5000);
            await new Promise((r) => setImmediate(r));
            assert.equal(kubelet.log.length, 1);
        } finally {
            clock.uninstall();
        }
    });
});

describe("the study's EventListener", function () {
    // A mutant that leaves a request or a child unanswered fails here rather than at the suite's minute.
    this.timeout(5000);
    // One trigger as the rendered listener has them: a CEL filter, a binding from the body, a template's PipelineRun.
    const listenerObject = {
        metadata: { name: "listener", namespace: "tekton-triggers" },
        spec: {
            triggers: [
                {
                    name: "iris-git-push",
                    interceptors: [
                        {
                            ref: { name: "cel" },
                            params: [
                                {
                                    name: "filter",
                                    value: "header['X-Github-Event'][0] == 'push' && body.model == 'iris'",
                                },
                            ],
                        },
                    ],
                    bindings: [{ name: "revision", value: "$(body.after)" }],
                    template: { ref: "train" },
                },
            ],
        },
    };
    const template = {
        metadata: { name: "train" },
        spec: {
            params: [{ name: "revision" }],
            resourcetemplates: [
                {
                    kind: "PipelineRun",
                    metadata: { generateName: "iris-" },
                    spec: { params: [{ name: "git-revision", value: "$(tt.params.revision)" }] },
                },
            ],
        },
    };
    let runs: FiredRun[];
    let listener: EventListener;
    let url: string;
    beforeEach(async () => {
        runs = [];
        listener = new EventListener(listenerObject, { bindings: [], templates: [template] }, [], (r) => runs.push(r));
        const port = await freePort();
        await listener.listen("127.0.0.1", port);
        url = `http://127.0.0.1:${port}`;
    });
    afterEach(() => listener.close());

    const post = (body: string, event = "push") =>
        fetch(url, { method: "POST", body, headers: { "content-type": "application/json", "x-github-event": event } });

    it("fires a request through the triggers and hands each PipelineRun they create to the study", async () => {
        const before = Date.now();
        const r = await post('{"model":"iris","after":"0d1a26e"}');
        const after = Date.now();
        assert.equal(r.status, 202);
        assert.equal(r.headers.get("content-type"), "application/json");
        assert.deepEqual(await r.json(), { fired: ["iris-git-push"] });
        assert.equal(runs.length, 1);
        assert.equal(runs[0].trigger, "iris-git-push");
        assert.deepEqual(runs[0].pipelineRun, {
            kind: "PipelineRun",
            metadata: { generateName: "iris-" },
            spec: { params: [{ name: "git-revision", value: "0d1a26e" }] },
        });
        assert.ok(runs[0].receivedAt >= before && runs[0].receivedAt <= after);
        assert.equal(listener.requests.length, 1);
        assert.deepEqual(listener.requests[0].fired, ["iris-git-push"]);
        assert.ok(listener.requests[0].at >= before && listener.requests[0].at <= after);
    });

    it("fires nothing for an event its filters refuse, and answers 400 to a body that is not JSON", async () => {
        const other = await post('{"model":"wine","after":"0d1a26e"}');
        assert.deepEqual([other.status, await other.json()], [202, { fired: [] }]);
        const ping = await post('{"model":"iris","after":"0d1a26e"}', "ping");
        assert.deepEqual([ping.status, await ping.json()], [202, { fired: [] }]);
        const broken = await post("{not json");
        assert.equal(broken.status, 400);
        assert.match(await broken.text(), /^SyntaxError: /);
        assert.deepEqual(runs, []);
        assert.deepEqual(
            listener.requests.map((q) => q.fired),
            [[], []],
        );
    });

    it("listens no more once closed", async () => {
        await listener.close();
        await assert.rejects(post('{"model":"iris","after":"0d1a26e"}'), /fetch failed/);
    });
});

/**
 * The study starts the gateway and the EventListener on fixed ports and closes both in its cleanup. A taken port used
 * to end the process through the server's unhandled error event, with the study's services left running, and a close
 * of a role that never listened waited forever, so the cleanup never reached the services.
 */
describe("the study's gateway and EventListener: a failed start, then the cleanup", function () {
    this.timeout(10_000);
    const roles = {
        gateway: () => new Gateway({} as Kube, "gateway", () => "127.0.0.1"),
        EventListener: () => new EventListener({}, { bindings: [], templates: [] }, [], () => undefined),
    } as const;
    /** Settles `p` or fails naming what hung, rather than at mocha's timeout. */
    const within = <T>(p: Promise<T>, what: string) =>
        Promise.race([
            p,
            new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} hung`)), 2_000).unref()),
        ]);
    let taken: http.Server;
    let port: number;
    beforeEach(async () => {
        taken = http.createServer((_, res) => res.end());
        await new Promise<void>((r) => taken.listen(0, "127.0.0.1", r));
        port = (taken.address() as AddressInfo).port;
    });
    afterEach(() => new Promise((r) => taken.close(r)));

    for (const [name, make] of Object.entries(roles)) {
        it(`${name}: close() before listen() returns at once`, async () => {
            await within(make().close(), "close() before listen()");
        });

        it(`${name}: listen() on a taken port rejects with EADDRINUSE, and close() then returns`, async () => {
            const role = make();
            await assert.rejects(within(role.listen("127.0.0.1", port), "listen() on a taken port"), {
                code: "EADDRINUSE",
            });
            await within(role.close(), "close() after a failed listen()");
            // The port's owner is untouched and still answers.
            assert.equal(
                (await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2_000) })).status,
                200,
            );
        });

        it(`${name}: a second close() after a real one returns at once`, async () => {
            const role = make();
            await role.listen("127.0.0.1", await freePort());
            await within(role.close(), "close()");
            await within(role.close(), "a second close()");
        });
    }
});
