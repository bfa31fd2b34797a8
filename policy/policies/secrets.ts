/**
 * No credential in plain text where anyone who can read the object can read it: ConfigMaps, Helm values, container
 * environment variables given as literals, and stack outputs that are not declared secret.
 *
 * Stack outputs: CrossGuard unwraps secrets before a policy sees them, so an output is judged by its key. The
 * outputs contract (infra/outputs.ts SECRET_OUTPUT_KEYS) lists the keys the program always wraps as secrets (the
 * whole-program tests check the wrapping); any other output that names a credential or looks like one is a
 * violation.
 */
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { SECRET_OUTPUT_KEYS } from "../../infra/outputs";
import { podSpecsOf } from "../lib/pod-specs";
import { HELM_RELEASE_TYPES, isRecord, kubernetesKind, objectRef } from "../lib/resources";
import { isCredentialKey, secretEnv, secretLookingValue, secretsIn, type SecretFinding } from "../lib/secrets";

export const STACK_TYPE = "pulumi:pulumi:Stack";

function findings(r: PolicyResource): SecretFinding[] {
    const k = kubernetesKind(r.type);
    if (k?.group === "" && k.kind === "ConfigMap") {
        return [...secretsIn(r.props.data ?? {}, "data"), ...secretsIn(r.props.binaryData ?? {}, "binaryData")];
    }
    if (HELM_RELEASE_TYPES.includes(r.type)) return secretsIn(r.props.values ?? {}, "values");
    if (r.type === STACK_TYPE) {
        const declared = new Set<string>(SECRET_OUTPUT_KEYS);
        return Object.entries(r.props).flatMap(([key, value]): SecretFinding[] => {
            if (declared.has(key) || value === null || value === undefined) return [];
            if (isCredentialKey(key))
                return [
                    {
                        path: `outputs.${key}`,
                        reason: "names a credential but is not a declared secret output (infra/outputs.ts SECRET_OUTPUT_KEYS)",
                    },
                ];
            const looks = secretLookingValue(typeof value === "string" ? value : JSON.stringify(value));
            return looks ? [{ path: `outputs.${key}`, reason: `holds what looks like ${looks}` }] : [];
        });
    }
    return podSpecsOf(r.type, r.props).flatMap((v) =>
        v.containers.flatMap((c) =>
            secretEnv(c.env).map((f) => ({ path: `${v.where} ${c.role} ${c.name} ${f.path}`, reason: f.reason })),
        ),
    );
}

export const noPlaintextSecrets: StackValidationPolicy = {
    name: "no-plaintext-secrets",
    description:
        "No credential in plain text: not in ConfigMaps, Helm values or literal container environment variables (reference a Secret), nor in stack outputs not declared secret.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        for (const r of args.resources) {
            const what =
                r.type === STACK_TYPE
                    ? "stack outputs"
                    : isRecord(r.props.metadata)
                      ? `${r.type} ${objectRef(r.props)}`
                      : `${r.type} ${r.name}`;
            for (const f of findings(r)) reportViolation(`${what}: ${f.path} ${f.reason}.`, r.urn);
        }
    },
};
