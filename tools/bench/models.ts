/**
 * The `models` config the scaling runs plan with: N model versions as N models of one version each
 * (`bench-0/v1` ... ), so resources per version stay comparable across N whatever per-model resources the
 * cluster layer adds. The shape is the one in contract/config/models.ts; the program validates it as usual.
 */
export function modelVersionsOverride(n: number): { name: string; versions: { name: string }[] }[] {
    if (!Number.isInteger(n) || n < 0) throw new Error(`model versions must be a whole number >= 0 (got ${n})`);
    return Array.from({ length: n }, (_, i) => ({ name: `bench-${i}`, versions: [{ name: "v1" }] }));
}
