/**
 * The policy pack as Pulumi runs it: `node @pulumi/pulumi/cmd/run-policy-pack <engine> .` in policy/ (what the
 * Node.js language host starts for `pulumi preview --policy-pack policy`), which type-checks the pack with
 * ts-node, constructs the PolicyPack and serves the analyzer over gRPC. The helpers talk to it the way the
 * engine does (GetAnalyzerInfo, Analyze per resource, AnalyzeStack), so the offline harness can be compared with
 * the real server.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import * as path from "node:path";
import type { AnalyzedResource, Violation } from "../policy/offline";
import { PROJECT_ROOT } from "../tools/stack";
import type { Json } from "./json";

// The engine's protocol as @pulumi/pulumi ships it, with the gRPC and protobuf copies it uses itself.
const pulumiRequire = createRequire(require.resolve("@pulumi/pulumi"));
const grpc = pulumiRequire("@grpc/grpc-js");
const analyzerGrpc = pulumiRequire("./proto/analyzer_grpc_pb");
const analyzerPb = pulumiRequire("./proto/analyzer_pb");
const { Struct } = pulumiRequire("google-protobuf/google/protobuf/struct_pb");
const { Empty } = pulumiRequire("google-protobuf/google/protobuf/empty_pb");

const POLICY_DIR = path.join(PROJECT_ROOT, "policy");
const RUN_POLICY_PACK = pulumiRequire.resolve("./cmd/run-policy-pack");
/** EnforcementLevel enum of analyzer.proto. */
const LEVELS = ["advisory", "mandatory", "disabled", "remediate"];

export interface PolicyServer {
    readonly info: () => Promise<{
        name: string;
        version: string;
        policies: { name: string; enforcementLevel: string }[];
    }>;
    readonly analyze: (r: AnalyzedResource) => Promise<Violation[]>;
    readonly analyzeStack: (resources: readonly AnalyzedResource[]) => Promise<Violation[]>;
    readonly stop: () => void;
    /** What the pack printed on stderr (type errors, crashes). */
    readonly stderr: () => string;
}

function unary<Req, Res>(client: Json, method: string, request: Req): Promise<Res> {
    return new Promise((resolve, reject) =>
        client[method](request, (err: Error | null, res: Res) => (err ? reject(err) : resolve(res))),
    );
}

function options(r: AnalyzedResource) {
    const o = new analyzerPb.AnalyzerResourceOptions();
    o.setProtect(r.protect);
    o.setIgnorechangesList([...r.ignoreChanges]);
    if (r.parent) o.setParent(r.parent);
    return o;
}

function toProto(r: AnalyzedResource, byUrn: ReadonlyMap<string, AnalyzedResource>) {
    const m = new analyzerPb.AnalyzerResource();
    m.setType(r.type);
    m.setUrn(r.urn);
    m.setName(r.name);
    m.setProperties(Struct.fromJavaScript(r.props));
    m.setOptions(options(r));
    if (r.parent) m.setParent(r.parent);
    m.setDependenciesList([...r.dependencies]);
    const deps = m.getPropertydependenciesMap();
    for (const [k, urns] of Object.entries(r.propertyDependencies)) {
        const d = new analyzerPb.AnalyzerPropertyDependencies();
        d.setUrnsList([...urns]);
        deps.set(k, d);
    }
    const providerUrn = r.provider?.slice(0, r.provider.lastIndexOf("::"));
    const provider = providerUrn ? byUrn.get(providerUrn) : undefined;
    if (provider) {
        const p = new analyzerPb.AnalyzerProviderResource();
        p.setType(provider.type);
        p.setUrn(provider.urn);
        p.setName(provider.name);
        p.setProperties(Struct.fromJavaScript(provider.props));
        m.setProvider(p);
    }
    return m;
}

const diagnostics = (res: Json): Violation[] =>
    res.getDiagnosticsList().map((d: Json) => ({
        policy: d.getPolicyname(),
        urn: d.getUrn(),
        message: d.getMessage(),
        level: LEVELS[d.getEnforcementlevel()],
    }));

/** Starts the pack as Pulumi would and connects to it; rejects if it does not serve within `timeoutMs`. */
export async function startPolicyServer(timeoutMs = 90_000): Promise<PolicyServer> {
    const child: ChildProcess = spawn(process.execPath, [RUN_POLICY_PACK, "127.0.0.1:1", "."], {
        cwd: POLICY_DIR,
        env: { ...process.env, NODE_OPTIONS: "" },
        stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr!.on("data", (b: Buffer) => (stderr += b.toString()));
    const port = await new Promise<number>((resolve, reject) => {
        let out = "";
        const timer = setTimeout(
            () => reject(new Error(`policy pack did not start in ${timeoutMs} ms:\n${stderr}`)),
            timeoutMs,
        );
        child.stdout!.on("data", (b: Buffer) => {
            out += b.toString();
            const m = /^(\d+)\s*$/m.exec(out);
            if (m) {
                clearTimeout(timer);
                resolve(Number(m[1]));
            }
        });
        child.on("exit", (code) => {
            clearTimeout(timer);
            reject(new Error(`policy pack exited with ${code}:\n${stderr}`));
        });
    });
    const client = new analyzerGrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    return {
        info: async () => {
            const res: Json = await unary(client, "getAnalyzerInfo", new Empty());
            return {
                name: res.getName(),
                version: res.getVersion(),
                policies: res
                    .getPoliciesList()
                    .map((p: Json) => ({ name: p.getName(), enforcementLevel: LEVELS[p.getEnforcementlevel()] })),
            };
        },
        analyze: async (r) => {
            const req = new analyzerPb.AnalyzeRequest();
            req.setType(r.type);
            req.setUrn(r.urn);
            req.setName(r.name);
            req.setProperties(Struct.fromJavaScript(r.props));
            req.setOptions(options(r));
            return diagnostics(await unary(client, "analyze", req));
        },
        analyzeStack: async (resources) => {
            const byUrn = new Map(resources.map((r) => [r.urn, r]));
            const req = new analyzerPb.AnalyzeStackRequest();
            req.setResourcesList(resources.map((r) => toProto(r, byUrn)));
            return diagnostics(await unary(client, "analyzeStack", req));
        },
        stop: () => {
            client.close();
            child.kill();
        },
        stderr: () => stderr,
    };
}
