import { parse, stringify } from "yaml";

/**
 * AKS with Azure RBAC and local accounts disabled hands out only Entra-authenticated kubeconfigs, whose exec
 * plugin is `kubelogin`. The one the API returns logs in interactively (device code); this rewrites its login
 * mode so the k8s provider and CI run non-interactively with the credentials of `az login`
 * (`azurecli`, or `workloadidentity` in federated CI).
 */
export function aksKubeconfig(
    base64Kubeconfig: string,
    loginMode: "azurecli" | "workloadidentity" = "azurecli",
): string {
    const doc = parse(Buffer.from(base64Kubeconfig, "base64").toString("utf8")) as {
        users?: { user?: { exec?: { args?: string[] } } }[];
    };
    for (const u of doc.users ?? []) {
        const args = u.user?.exec?.args;
        if (!args) continue;
        const i = args.indexOf("--login");
        if (i >= 0 && i + 1 < args.length) args[i + 1] = loginMode;
        else args.push("--login", loginMode);
    }
    return stringify(doc);
}
