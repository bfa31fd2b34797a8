/** JSON the specs read by path in their assertions (planned inputs, manifests, payloads); see contract/json.ts. */
export type { Json } from "../contract/json";
