/** The platforms the testbed builds on, and what differs between them that both the config and the Platform name. */

/** Which platform builds (or, for `existing`, uses) the cluster: the `cloud` config key. */
export const CLOUDS = ["aws", "azure", "existing"] as const;
export type CloudName = (typeof CLOUDS)[number];

/**
 * How the build step talks to the image registry: `verify` (HTTPS, certificate verified), `skip-verify` (HTTPS with
 * a self-signed or private-CA certificate, not verified) or `http` (plain HTTP, e.g. kind's local registry).
 */
export const REGISTRY_TLS_MODES = ["verify", "skip-verify", "http"] as const;
export type RegistryTls = (typeof REGISTRY_TLS_MODES)[number];
