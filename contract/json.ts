/**
 * JSON whose shape is checked field by field where it is read, not by the type checker: resource properties as the
 * Pulumi engine and CrossGuard hand them over, the mock engine's requests, planned inputs the specs assert on. A
 * wrong path yields undefined and fails the check that reads it. This alias is the project's only use of `any`.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above: untyped JSON at the engine boundary
export type Json = any;
