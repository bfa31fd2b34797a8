import { z } from "zod";
import { promDuration, quantity } from "./common";

export const monitoringSchema = z.strictObject({
    /** How long Prometheus keeps samples. */
    retention: promDuration.default("15d"),
    /** Size of the Prometheus volume. */
    storageSize: quantity.default("50Gi"),
});
