import type * as pulumi from "@pulumi/pulumi";

/** `protected`: protect and retain on destroy (prod); `disposable`: destroy with contents (dev). */
export type StoreProtection = "protected" | "disposable";

/** Resource options that make a stateful resource survive mistakes, or let dev throw it away. */
export function statefulOptions(protection: StoreProtection, parent: pulumi.Resource): pulumi.CustomResourceOptions {
    return protection === "protected" ? { parent, protect: true, retainOnDelete: true } : { parent, protect: false };
}
