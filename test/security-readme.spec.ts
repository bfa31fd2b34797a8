/**
 * docs/security.md against the code: its tables are derived here from the plan of the dev stack
 * (NetworkPolicies of a model-version namespace, IRSA roles and their inline policies, node role attachments,
 * the deployer's Roles) and must be exactly what the page lists.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { COMPUTED, type Plan, type PlannedResource } from "../tools/mock-runtime";
import { loadStack, PROJECT_ROOT } from "../tools/stack";
import { jsonInput, planStack, resourcesOfType } from "./harness";
import { objectsOfKind } from "./k8s-objects";
import type { Json } from "./json";

/** docs/security.md, the page the README links for what is isolated from what and who may do what. */
const section = fs.readFileSync(path.join(PROJECT_ROOT, "docs", "security.md"), "utf8");

/** Rows of the section's tables whose first cell matches `first`, as cells with backticks kept. */
function rows(first: RegExp): string[][] {
    return section
        .split("\n")
        .filter((l) => l.startsWith("| ") && first.test(l.split("|")[1].trim()))
        .map((l) =>
            l
                .split("|")
                .slice(1, -1)
                .map((c) => c.trim()),
        );
}
const code = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
const sorted = (xs: Iterable<string>) => [...new Set(xs)].sort();

let plan: Plan;
let modelNamespaces: string[];
before(async () => {
    plan = await planStack("dev");
    modelNamespaces = Object.values(plan.outputs.modelNamespaces as Record<string, Record<string, string>>).flatMap(
        (v) => Object.values(v),
    );
});

/** `<model>-<version>` for a model-version namespace, and the model's prefix in a store path. */
function generic(text: string): string {
    let out = text;
    for (const [model, versions] of Object.entries(
        plan.outputs.modelNamespaces as Record<string, Record<string, string>>,
    )) {
        for (const [version, ns] of Object.entries(versions)) {
            out = out
                .replace(new RegExp(`(^|[^\\w-])${ns}/`, "g"), "$1<model>-<version>/")
                .replace(`/${model}/${version}/`, "/<model>/<version>/");
        }
    }
    return out.replace(new RegExp(String(plan.outputs.clusterName), "g"), "<cluster>");
}

function peer(p: Json): string {
    if (p.ipBlock)
        return `${p.ipBlock.cidr}${p.ipBlock.except?.length ? ` except ${p.ipBlock.except.join(", ")}` : ""}`;
    const ns = p.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"];
    const pods = Object.entries(p.podSelector?.matchLabels ?? {})
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `${k}=${v}`)
        .join(",");
    return [ns ? `namespace ${ns}` : "this namespace", pods ? `pods ${pods}` : ""].filter(Boolean).join(", ");
}

describe("docs/security.md: network isolation of model versions", () => {
    it("lists exactly the flows the NetworkPolicies of a model-version namespace allow", () => {
        for (const ns of modelNamespaces) {
            const derived: string[] = [];
            for (const np of objectsOfKind(plan, "NetworkPolicy", ns)) {
                for (const [direction, rules, peers] of [
                    ["ingress", np.spec.ingress, "from"],
                    ["egress", np.spec.egress, "to"],
                ] as const) {
                    for (const rule of rules ?? []) {
                        const ports = (rule.ports ?? [])
                            .map((p: Json) => `${p.protocol ?? "TCP"} ${p.port}`)
                            .join(", ");
                        for (const p of rule[peers] ?? []) derived.push(`${direction} | ${peer(p)} | ${ports}`);
                    }
                }
            }
            const documented = rows(/^(ingress|egress)$/).map(
                ([dir, p, ports]) => `${dir} | ${code(p)[0]} | ${code(ports)[0]}`,
            );
            assert.deepEqual(sorted(derived), sorted(documented), ns);
        }
    });

    it("starts every model-version namespace from a default deny in both directions", () => {
        assert.match(section, /`default-deny` \(no ingress, no egress\)/);
        for (const ns of modelNamespaces) {
            const deny = objectsOfKind(plan, "NetworkPolicy", ns).find((p) => p.metadata.name === "default-deny");
            assert.deepEqual(deny?.spec, { podSelector: {}, policyTypes: ["Ingress", "Egress"] }, ns);
        }
    });
});

/** IRSA roles: service account → what its inline policy allows beyond reads and implied KMS use. */
function identityGrants(): string[] {
    const buckets = new Map(
        resourcesOfType(plan, "aws:s3/bucket:Bucket").map((b) => [
            String(COMPUTED["aws:s3/bucket:Bucket"](b.name, b.inputs, { region: "", project: "", stack: "" }).arn),
            String((b.inputs.tags as Json).purpose),
        ]),
    );
    const policies = resourcesOfType(plan, "aws:iam/rolePolicy:RolePolicy");
    const out: string[] = [];
    for (const role of resourcesOfType(plan, "aws:iam/role:Role")) {
        const trust = jsonInput(role, "assumeRolePolicy");
        const sub = trust.Statement.flatMap((s: Json) => Object.entries(s.Condition?.StringEquals ?? {})).find(
            ([k]: [string, unknown]) => k.endsWith(":sub"),
        )?.[1] as string | undefined;
        if (!sub) continue;
        const account = generic(sub.replace(/^system:serviceaccount:([^:]+):(.+)$/, "$1/$2"));
        const policy = policies.find((p: PlannedResource) => p.parent === role.parent);
        if (!policy) {
            // Only AWS managed policies (the EBS CSI driver with AWS managed keys): nothing inline to list.
            const managed = resourcesOfType(plan, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").filter(
                (a) => a.parent === role.parent,
            );
            assert.ok(managed.length > 0, `${role.name} has neither an inline nor a managed policy`);
            continue;
        }
        for (const s of jsonInput(policy, "policy").Statement) {
            const actions: string[] = [s.Action].flat();
            const object = /^(arn:aws:s3:::[^/]+)\/(.*)\*$/.exec(String(s.Resource));
            if (object && actions.every((a) => a.startsWith("s3:"))) {
                const read = actions.some((a) => a.startsWith("s3:Get"));
                const write = actions.some((a) => a.startsWith("s3:Put"));
                assert.ok(!actions.includes("s3:DeleteObject") && !actions.includes("s3:*"), `${account} may delete`);
                const prefix = generic(`/${object[2]}`).slice(1);
                out.push(
                    `${account} | ${read && write ? "read-write" : write ? "write" : "read"} ${buckets.get(object[1])}:${prefix === "" ? "*" : prefix}`,
                );
                continue;
            }
            const changes = actions.filter((a) => !/^[a-z0-9]+:(Describe|Get|List)/.test(a) && !a.startsWith("kms:"));
            if (changes.length === 0) continue;
            const condition = Object.entries(s.Condition?.StringEquals ?? {})
                .map(([k, v]) => ` where ${k}=${v}`)
                .join("");
            // The plan's invented ARNs name the Pulumi resource (`<name>-EXAMPLE`): the page names resources that way.
            const resource = String(s.Resource)
                .replace(/^arn:aws:ecr:[^:]*:\d+:repository\//, "repository ")
                .replace(/^arn:aws:sqs:[^:]*:\d+:(queue\/)?(.+?)(-EXAMPLE)?$/, "SQS queue $2");
            const on = s.Resource === "*" ? "" : ` on ${resource}`;
            out.push(`${account} | ${generic(`${changes.join(", ")}${on}${condition}`)}`);
        }
    }
    return out;
}

describe("docs/security.md: who may read or write what", () => {
    it("lists exactly the cloud permissions of every service account's identity", () => {
        const documented = rows(/^`[^`]+\/[^`]+`$/)
            .filter((r) => r.length === 2)
            .map(([sa, may]) => `${code(sa)[0]} | ${code(may)[0]}`);
        assert.deepEqual(sorted(identityGrants()), sorted(documented));
    });

    it("names exactly the managed policies of the node role", () => {
        const attached = resourcesOfType(plan, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
            .filter((a) => a.name.includes("-node-"))
            .map((a) => String(a.inputs.policyArn).split("/").pop()!);
        const sentence = /Nodes run as one EC2 role with the AWS managed policies ([^.]+)\./.exec(
            section.replace(/\n/g, " "),
        );
        assert.ok(sentence, "the page names the node role's policies");
        assert.deepEqual(sorted(attached), sorted(code(sentence[1])));
    });

    it("lists exactly what the pipelines' deployer may change and read in model namespaces", () => {
        const [row] = rows(/^`pipelines\/deployer`$/);
        assert.ok(row, "the page has the deployer row");
        for (const ns of modelNamespaces) {
            const bindings = objectsOfKind(plan, "RoleBinding", ns);
            assert.deepEqual(
                bindings.flatMap((b) => b.subjects.map((s: Json) => `${s.namespace}/${s.name}`)),
                [code(row[0])[0]],
                ns,
            );
            const rules = objectsOfKind(plan, "Role", ns).flatMap(
                (r) => r.rules as { resources: string[]; verbs: string[] }[],
            );
            const change = rules
                .filter((r) => r.verbs.some((v) => !["get", "list", "watch"].includes(v)))
                .flatMap((r) => r.resources);
            const read = rules
                .filter((r) => r.verbs.every((v) => ["get", "list", "watch"].includes(v)))
                .flatMap((r) => r.resources);
            assert.deepEqual(sorted(change), sorted(code(row[2])), `${ns} may change`);
            assert.deepEqual(sorted(read), sorted(code(row[3])), `${ns} may read`);
            assert.ok(
                ![...change, ...read].some(
                    (r) =>
                        r === "secrets" || r.startsWith("roles") || r.startsWith("rolebindings") || r === "pods/exec",
                ),
                ns,
            );
        }
    });

    it("gives cluster-admin to no one but cluster.adminRoleArns", async () => {
        assert.match(section, /Cluster-admin goes only to the IAM roles in `cluster\.adminRoleArns`/);
        const eks = resourcesOfType(plan, "eks:index:Cluster")[0];
        assert.deepEqual(eks.inputs.accessEntries, {}, "the dev stack names no admin role");
        const arn = "arn:aws:iam::123456789012:role/ci-deploy";
        const withAdmin = await planStack("dev", {
            cluster: { ...JSON.parse(loadStack("dev").config["mlops-testbed:cluster"]), adminRoleArns: [arn] },
        });
        const entries = resourcesOfType(withAdmin, "eks:index:Cluster")[0].inputs.accessEntries as Record<string, Json>;
        assert.deepEqual(
            Object.values(entries).map((e) => e.principalArn),
            [arn],
        );
    });
});
