import { z } from "zod";

/** Messages name what is allowed, so a user can fix the stack file without reading the code. */
export const DNS_LABEL_RULE =
    "a DNS-1123 label: 1-63 lowercase letters, digits or '-', starting and ending with a letter or digit";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export const dnsLabel = (maxLength = 63) =>
    z
        .string({ error: `must be a string: ${DNS_LABEL_RULE}` })
        .regex(DNS_LABEL, { error: `must be ${DNS_LABEL_RULE}` })
        .max(maxLength, { error: `must be at most ${maxLength} characters` });

export const wholeNumber = (key: string, min: number, max: number) =>
    z
        .number({ error: `${key} must be a whole number from ${min} to ${max}` })
        .int({ error: `${key} must be a whole number from ${min} to ${max}` })
        .min(min, { error: `${key} must be a whole number from ${min} to ${max}` })
        .max(max, { error: `${key} must be a whole number from ${min} to ${max}` });

const CIDR = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/(3[0-2]|[12]?\d)$/;

export const ipv4Cidr = z
    .string({ error: "must be an IPv4 CIDR block such as 10.0.0.0/16" })
    .regex(CIDR, { error: "must be an IPv4 CIDR block such as 10.0.0.0/16" });

/** Kubernetes quantity (e.g. `500m`, `4`, `16Gi`). */
export const quantity = z
    .string({ error: 'must be a Kubernetes quantity string such as "500m", "4" or "16Gi"' })
    .regex(/^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/, {
        error: 'must be a Kubernetes quantity such as "500m", "4" or "16Gi"',
    });

/** Prometheus duration (e.g. `15d`, `12h`). */
export const promDuration = z
    .string({ error: 'must be a Prometheus duration such as "15d" or "12h"' })
    .regex(/^[0-9]+(ms|s|m|h|d|w|y)$/, { error: 'must be a Prometheus duration such as "15d" or "12h"' });

export const labelMap = z.record(
    z.string().regex(/^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/, {
        error: "label keys must be Kubernetes label keys (optional DNS prefix and '/', then up to 63 letters, digits, '-', '_' or '.')",
    }),
    z.string().regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/, {
        error: "label values must be at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
    }),
);

/** Multipliers of the Kubernetes quantity suffixes (decimal SI, binary, and milli). */
const QUANTITY_SUFFIXES = {
    "": 1,
    m: 1e-3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    P: 1e15,
    E: 1e18,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    Pi: 2 ** 50,
    Ei: 2 ** 60,
} as const;

/**
 * A quantity (as `quantity` accepts it) in thousandths of its unit, rounded: "250m" CPU is 250, "512Mi" memory is
 * 536870912000. Integers, so that dividing a quota by a request counts whole pods exactly.
 */
export function quantityMilli(q: string): number {
    const m = /^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/.exec(q);
    if (!m) throw new Error(`not a Kubernetes quantity: ${q}`);
    return Math.round(Number(m[1]) * QUANTITY_SUFFIXES[(m[2] ?? "") as keyof typeof QUANTITY_SUFFIXES] * 1000);
}
