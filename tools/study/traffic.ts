/**
 * What became of the study's traffic through the gateway: each phase's requests (predictions and feedback) and how
 * many were served. A phase where the model is meant to serve stops the study at its first failed request's count
 * rather than letting a broken route or server pass unseen (the live accuracy, latency and error rate the report shows
 * are measured on this traffic); a phase where failures can be part of what is measured (a canary's analyses while
 * the route changes) counts them and the study prints them.
 */

/** What a phase's traffic may meet: every request served, or failures only counted. */
export type TrafficFailures = "stop-the-study" | "count";

/** One phase's requests so far. */
export interface PhaseTally {
    readonly phase: string;
    readonly failures: TrafficFailures;
    sent: number;
    served: number;
    /** The first failed request's error, as the request reported it. */
    firstFailure?: string;
}

/** The traffic one model's scenario sent, phase by phase, in the order the phases began. */
export class TrafficLedger {
    private readonly phases = new Map<string, PhaseTally>();

    constructor(
        /** The model the traffic went to. */
        readonly model: string,
    ) {}

    /**
     * Counts one request of `phase`: served, or failed with `error`. A phase keeps the failure policy it began with;
     * naming it again with the other policy is a mistake in the study's code.
     */
    record(phase: string, failures: TrafficFailures, error?: string): void {
        let tally = this.phases.get(phase);
        if (!tally) {
            tally = { phase, failures, sent: 0, served: 0 };
            this.phases.set(phase, tally);
        } else if (tally.failures !== failures)
            throw new Error(`traffic phase "${phase}" began with failures "${tally.failures}", not "${failures}"`);
        tally.sent++;
        if (error === undefined) tally.served++;
        else tally.firstFailure ??= error;
    }

    /** The phases so far, in the order they began. */
    get tallies(): readonly Readonly<PhaseTally>[] {
        return [...this.phases.values()];
    }

    /**
     * Why the study must stop: a phase whose requests must all be served had a failure. The message names the model,
     * the phase, the count and the first failure.
     */
    problem(): string | undefined {
        const bad = this.tallies.filter((t) => t.failures === "stop-the-study" && t.served < t.sent);
        if (bad.length === 0) return undefined;
        return bad
            .map(
                (t) =>
                    `traffic to ${this.model} ${t.phase}: ${t.sent - t.served} of ${t.sent} requests failed, the first: ${t.firstFailure}`,
            )
            .join("; ");
    }

    /** The study's line for this model: every phase's served and sent requests, and a failure where there was one. */
    describe(): string {
        const phases = this.tallies.map(
            (t) =>
                `${t.phase} ${t.served} of ${t.sent} served` +
                (t.firstFailure === undefined ? "" : ` (the first failure: ${t.firstFailure})`),
        );
        return `traffic to ${this.model}: ${phases.length > 0 ? phases.join("; ") : "none"}`;
    }
}
