/**
 * What a secret looks like in plain text: a key that names a credential and carries a literal value, or a value
 * with the shape of a known credential (private keys, cloud and Git tokens, JWTs, URLs with a password,
 * connection strings with an account key).
 *
 * CrossGuard hands policies secret values unwrapped, so a policy cannot tell a Pulumi secret from plain text:
 * these checks look at where a credential sits, not at whether Pulumi encrypts it. ConfigMaps and Helm values are
 * readable by anyone who may read the object (and Helm values by `helm get values`), so a credential belongs in a
 * Secret that they reference.
 */
import { isRecord } from "./resources";
import type { Json } from "../../contract/json";

/** Key names (case and separators ignored) that are credentials even though they end in "key". */
const CREDENTIAL_KEYS = [
    "apikey",
    "accesskey",
    "secretkey",
    "privatekey",
    "secretaccesskey",
    "accesskeyid",
    "signingkey",
    "sessionkey",
    "encryptionkey",
    "sshkey",
    "authkey",
    "masterkey",
    "accountkey",
    "sharedkey",
];
const CREDENTIAL_WORDS = [
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "credential",
    "apikey",
    "accesskey",
    "privatekey",
    "clientsecret",
];
/** Endings of keys that name where a credential is (a Secret, a key inside it, a file) or describe it, not the credential. */
const REFERENCE_ENDINGS = [
    "name",
    "names",
    "ref",
    "file",
    "path",
    "dir",
    "mount",
    "enabled",
    "enable",
    "length",
    "ttl",
    "seconds",
    "minutes",
    "days",
    "expiry",
    "expiration",
    "duration",
    "version",
    "audience",
    "type",
    "url",
    "uri",
    "endpoint",
    "header",
    "namespace",
    "selector",
    "template",
    "policy",
    "provider",
    "id",
];
/** `<word>Key` names the key inside a Secret holding the value (e.g. Grafana's `passwordKey`). */
const REFERENCE_KEY_PREFIXES = [
    "password",
    "passwd",
    "token",
    "user",
    "username",
    "cert",
    "ca",
    "tls",
    "secret",
    "admin",
];

function normalise(key: string): string {
    return key.toLowerCase().replace(/[^a-z0-9]/g, "");
}

/** Whether a key (property, ConfigMap key, environment variable, output name) names a credential. */
export function isCredentialKey(key: string): boolean {
    const k = normalise(key);
    if (k.startsWith("existing")) return false;
    if (CREDENTIAL_KEYS.some((c) => k === c || k.endsWith(c))) return true;
    if (REFERENCE_ENDINGS.some((e) => k.endsWith(e) && k !== e)) return false;
    if (k.endsWith("key") && REFERENCE_KEY_PREFIXES.some((p) => k.endsWith(`${p}key`))) return false;
    return CREDENTIAL_WORDS.some((w) => k.includes(w));
}

/** Shapes of well-known credentials. */
const SECRET_PATTERNS: readonly { readonly name: string; readonly re: RegExp }[] = [
    { name: "a private key", re: /-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY-----/ },
    { name: "an AWS access key id", re: /\b(AKIA|ASIA)[0-9A-Z]{16}\b/ },
    { name: "a GitHub token", re: /\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})\b/ },
    { name: "a Slack token", re: /\bxox[abposr]-[A-Za-z0-9-]{10,}/ },
    { name: "a JSON Web Token", re: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/ },
    { name: "a URL with a password", re: /\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@"']+:[^\s@/"'$]+@/i },
    { name: "a storage account key", re: /\bAccountKey=[A-Za-z0-9+/]{20,}={0,2}/ },
    { name: "a shared access signature", re: /[?&]sig=[A-Za-z0-9%+/]{20,}/ },
    {
        name: "a kubeconfig with static credentials",
        re: /\b(client-key-data|client-certificate-data)\b|\btoken["']?:\s*["']?[A-Za-z0-9._-]{20,}/,
    },
    // A literal: quoted, or a bare word ending the statement (not an expression such as page.get("...") or $VAR).
    {
        name: "an assignment of a password or token",
        re: /(?<![A-Za-z0-9])(password|passwd|pwd|secret|token|api[_-]?key)["']?\s*[=:]\s*(["'](?!\$|\{\{|<)[^"'\s]{8,}["']|(?!\$|\{\{|<)[\w\-+/=!@#%^&*~.]{8,}(?=$|[\s,;]))/im,
    },
];

/** The kind of credential a string looks like, or undefined. */
export function secretLookingValue(value: unknown): string | undefined {
    if (typeof value !== "string") return undefined;
    return SECRET_PATTERNS.find((p) => p.re.test(value))?.name;
}

/** Whether a value is a literal a credential key must not carry (a non-empty string or a number). */
function isLiteral(value: unknown): boolean {
    return (typeof value === "string" && value.trim() !== "") || typeof value === "number";
}

export interface SecretFinding {
    readonly path: string;
    readonly reason: string;
}

/**
 * Credentials in a tree of values (Helm values, a ConfigMap's data): a credential key with a literal value, or a
 * string shaped like a credential anywhere.
 */
export function secretsIn(value: unknown, path: string): SecretFinding[] {
    const out: SecretFinding[] = [];
    const visit = (v: unknown, p: string, key: string | undefined) => {
        if (Array.isArray(v)) {
            v.forEach((item, i) => visit(item, `${p}[${i}]`, key));
            return;
        }
        if (isRecord(v)) {
            for (const [k, child] of Object.entries(v)) visit(child, `${p}.${k}`, k);
            return;
        }
        if (key !== undefined && isCredentialKey(key) && isLiteral(v)) {
            out.push({
                path: p,
                reason: `"${key}" names a credential and holds a literal value; reference a Secret instead`,
            });
            return;
        }
        const looks = secretLookingValue(v);
        if (looks) out.push({ path: p, reason: `holds what looks like ${looks}` });
    };
    visit(value, path, undefined);
    return out;
}

/** Credentials given as literal container environment variables (`value`, not `valueFrom`). */
export function secretEnv(env: readonly Json[]): SecretFinding[] {
    const out: SecretFinding[] = [];
    env.forEach((e, i) => {
        if (!isRecord(e) || typeof e.name !== "string") return;
        if (isCredentialKey(e.name) && isLiteral(e.value)) {
            out.push({
                path: `env[${i}]`,
                reason: `${e.name} is a credential given as a literal value; use valueFrom.secretKeyRef`,
            });
            return;
        }
        const looks = secretLookingValue(e.value);
        if (looks) out.push({ path: `env[${i}]`, reason: `${e.name} holds what looks like ${looks}` });
    });
    return out;
}
