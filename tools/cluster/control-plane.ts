/**
 * The local control plane from TypeScript: builds it (build.sh, once per machine), starts and stops it
 * (cluster.sh, by PID), installs the add-ons' CRDs and the stack's simulated nodes.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { CRD_SOURCES, crdsOf, type Crd } from "./crds";
import { Kube, waitFor } from "./kube";
import { nodeObjects, type NodePool } from "./nodes";
import type { Json } from "../../contract/json";

const HERE = __dirname;
export const CLUSTER_IP = process.env.MLOPS_CLUSTER_IP ?? "127.0.0.15";

export interface BuildReport {
    /** build.sh's own lines (each says the seconds a build took, 0 when cached). */
    readonly lines: string[];
    readonly seconds: number;
}

/** Runs build.sh (a no-op when the cache has the binaries). */
export function build(): BuildReport {
    const start = Date.now();
    const out = execFileSync("bash", [path.join(HERE, "build.sh")], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
    });
    return {
        lines: out
            .trim()
            .split("\n")
            .filter((l) => l.startsWith("build:")),
        seconds: (Date.now() - start) / 1000,
    };
}

export interface Cluster {
    readonly state: string;
    readonly admin: Kube;
    readonly adminKubeconfig: string;
    readonly caFile: string;
    readonly ip: string;
    /** Seconds from `cluster.sh start` to a ready API with controllers and kwok running. */
    readonly startSeconds: number;
}

/** Starts a fresh control plane with its state (certificates, etcd data, logs, PIDs) under `state`. */
export async function start(state: string): Promise<Cluster> {
    fs.mkdirSync(state, { recursive: true });
    const t0 = Date.now();
    execFileSync("bash", [path.join(HERE, "cluster.sh"), "start", state], {
        stdio: ["ignore", "ignore", "inherit"],
        env: { ...process.env, MLOPS_CLUSTER_IP: CLUSTER_IP },
    });
    const startSeconds = (Date.now() - t0) / 1000;
    // Should the test process end without stop() (a crash, a timeout), the components it started end with it.
    process.once("exit", () => stop(state));
    const adminKubeconfig = path.join(state, "admin.kubeconfig");
    return {
        state,
        admin: await Kube.connect(adminKubeconfig),
        adminKubeconfig,
        caFile: path.join(state, "pki", "ca.crt"),
        ip: CLUSTER_IP,
        startSeconds,
    };
}

/** Stops the components `start` launched, by their recorded PIDs. */
export function stop(state: string): void {
    execFileSync("bash", [path.join(HERE, "cluster.sh"), "stop", state], { stdio: ["ignore", "ignore", "inherit"] });
}

/** Applies every CRD source and waits until each CRD is Established; returns the CRDs by source. */
export async function installCrds(kube: Kube): Promise<{ source: string; module: string; crds: number }[]> {
    const report: { source: string; module: string; crds: number }[] = [];
    for (const source of CRD_SOURCES) {
        const crds = crdsOf(source);
        for (const crd of crds) await kube.apply(crd);
        for (const crd of crds) await waitEstablished(kube, crd);
        report.push({ source: source.name, module: `${source.module}@${source.version}`, crds: crds.length });
    }
    return report;
}

async function waitEstablished(kube: Kube, crd: Crd): Promise<void> {
    await waitFor(`CRD ${crd.metadata.name} Established`, 60_000, async () => {
        const c = await kube.read<Json>("apiextensions.k8s.io/v1", "CustomResourceDefinition", crd.metadata.name);
        return c.status?.conditions?.some(
            (x: { type: string; status: string }) => x.type === "Established" && x.status === "True",
        )
            ? true
            : undefined;
    });
}

/** Registers the pools' nodes and waits until kwok reports every one Ready. */
export async function addNodes(kube: Kube, pools: readonly NodePool[]): Promise<string[]> {
    const nodes = nodeObjects(pools);
    // Nodes keep the status they are created with (the kubelet registers that way): capacity and allocatable.
    for (const n of nodes) await kube.create(n as Json);
    for (const n of nodes) {
        await waitFor(`node ${n.metadata.name} Ready`, 60_000, async () => {
            const node = await kube.read<Json>("v1", "Node", n.metadata.name);
            return node.status?.conditions?.some(
                (c: { type: string; status: string }) => c.type === "Ready" && c.status === "True",
            )
                ? true
                : undefined;
        });
    }
    return nodes.map((n) => n.metadata.name);
}
