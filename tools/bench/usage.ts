/** Resource usage of the current process; imports nothing, so the SDK-load baseline stays a pure baseline. */
export function cpuAndMemory(): { cpuMs: number; maxRssKB: number } {
    const u = process.resourceUsage();
    return { cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000, maxRssKB: u.maxRSS };
}
