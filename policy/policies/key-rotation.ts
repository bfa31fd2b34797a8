/**
 * Encryption keys rotate their key material: an AWS KMS key has automatic rotation on (`enableKeyRotation`; AWS
 * leaves it off unless asked), an Azure Key Vault key has a rotation policy with a lifetime action that rotates it
 * (Key Vault never rotates a key without one). A key that cannot rotate automatically (an asymmetric or HMAC KMS
 * key) is declared not applicable rather than passed.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { asArray, isRecord } from "../lib/resources";
import type { Json } from "../../contract/json";

export const AWS_KMS_KEY = "aws:kms/key:Key";
export const AZURE_VAULT_KEY = "azure-native:keyvault:Key";

/** The only KMS key spec AWS rotates automatically (also the default when none is given). */
const AWS_ROTATABLE_SPEC = "SYMMETRIC_DEFAULT";

/** Whether a Key Vault rotation policy has a lifetime action that rotates the key on a trigger. */
function rotatesOnTrigger(rotationPolicy: Json): boolean {
    return asArray(rotationPolicy?.lifetimeActions).some(
        (a) =>
            isRecord(a?.action) &&
            String(a.action.type).toLowerCase() === "rotate" &&
            isRecord(a.trigger) &&
            [a.trigger.timeAfterCreate, a.trigger.timeBeforeExpiry].some((t) => typeof t === "string" && t !== ""),
    );
}

export const keyRotation: ResourceValidationPolicy = {
    name: "key-rotation",
    description:
        "Every AWS KMS key rotates automatically (enableKeyRotation) and every Azure Key Vault key has a rotation policy that rotates it.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (args.type === AWS_KMS_KEY) {
            const spec = args.props.customerMasterKeySpec ?? AWS_ROTATABLE_SPEC;
            if (spec !== AWS_ROTATABLE_SPEC) {
                args.notApplicable(`KMS rotates only ${AWS_ROTATABLE_SPEC} keys automatically; this one is ${spec}`);
                return;
            }
            if (args.props.enableKeyRotation !== true)
                reportViolation(
                    `${args.type} ${args.name} does not rotate its key material (enableKeyRotation: ${JSON.stringify(args.props.enableKeyRotation ?? null)}; set it to true).`,
                );
        }
        if (args.type === AZURE_VAULT_KEY && !rotatesOnTrigger(args.props.properties?.rotationPolicy))
            reportViolation(
                `${args.type} ${args.name} has no rotation policy that rotates it (properties.rotationPolicy.lifetimeActions: an action of type "rotate" with a timeAfterCreate or timeBeforeExpiry trigger).`,
            );
    },
};
