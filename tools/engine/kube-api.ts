/**
 * Reads objects from the cluster a kubeconfig names, independently of the engine, so npm run test:engine can check
 * what the API server holds after each step. Only what such a check needs: the current context's server, its CA and
 * a client certificate or bearer token (inline `-data` or file paths), and GET.
 */
import * as fs from "node:fs";
import * as https from "node:https";
import { parse } from "yaml";

interface KubeconfigDoc {
    "current-context"?: string;
    contexts?: { name: string; context: { cluster: string; user: string } }[];
    clusters?: { name: string; cluster: Record<string, string> }[];
    users?: { name: string; user: Record<string, string> }[];
}

/** File content or inline base64 data of a kubeconfig field pair (`certificate-authority` / `-data`). */
function material(entry: Record<string, string>, field: string): Buffer | undefined {
    if (entry[`${field}-data`]) return Buffer.from(entry[`${field}-data`], "base64");
    if (entry[field]) return fs.readFileSync(entry[field]);
    return undefined;
}

/** GET of an API path with the kubeconfig's current context; resolves to the HTTP status and the parsed body. */
export function kubeGet(
    kubeconfig: string,
    apiPath: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
    const doc = parse(kubeconfig) as KubeconfigDoc;
    const ctx = doc.contexts?.find((c) => c.name === doc["current-context"])?.context;
    const cluster = doc.clusters?.find((c) => c.name === ctx?.cluster)?.cluster;
    const user = doc.users?.find((u) => u.name === ctx?.user)?.user ?? {};
    if (!ctx || !cluster?.server) throw new Error("the kubeconfig has no current context with a cluster server");
    const url = new URL(apiPath, cluster.server);
    return new Promise((resolve, reject) => {
        const req = https.get(
            url,
            {
                ca: material(cluster, "certificate-authority"),
                cert: material(user, "client-certificate"),
                key: material(user, "client-key"),
                headers: user.token ? { authorization: `Bearer ${user.token}` } : {},
                timeout: 30_000,
            },
            (res) => {
                let text = "";
                res.setEncoding("utf8");
                res.on("data", (chunk: string) => (text += chunk));
                res.on("end", () =>
                    resolve({
                        status: res.statusCode ?? 0,
                        body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
                    }),
                );
            },
        );
        req.on("timeout", () => req.destroy(new Error(`GET ${url} timed out`)));
        req.on("error", reject);
    });
}

/** Names of the namespaces the cluster holds now. */
export async function namespaceNames(kubeconfig: string): Promise<string[]> {
    const { status, body } = await kubeGet(kubeconfig, "/api/v1/namespaces");
    if (status !== 200) throw new Error(`listing namespaces: HTTP ${status}`);
    return ((body.items ?? []) as { metadata: { name: string } }[]).map((n) => n.metadata.name).sort();
}
