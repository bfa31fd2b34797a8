import { intToIp, ipToInt } from "../../contract/ipv4";

/**
 * Carves subnets out of a VPC CIDR without overlap: the VPC is split into 8 equal blocks; private subnets
 * (where nodes and pods live, so they get the big blocks) take blocks 0..n-1, and the last block is split
 * into 4 public subnets (load balancers and NAT gateways only).
 */
export interface SubnetPlan {
    readonly privateCidrs: string[];
    readonly publicCidrs: string[];
}

export function planSubnets(vpcCidr: string, zones: number): SubnetPlan {
    const [base, bitsText] = vpcCidr.split("/");
    const bits = Number(bitsText);
    if (!(bits >= 8 && bits <= 20)) throw new Error(`VPC CIDR ${vpcCidr} must be between /8 and /20`);
    if (!(zones >= 1 && zones <= 4)) throw new Error(`zones must be 1 to 4, got ${zones}`);
    const size = 2 ** (32 - bits);
    const start = ipToInt(base) - (ipToInt(base) % size);
    const privateSize = size / 8;
    const publicSize = privateSize / 4;
    const privateCidrs = Array.from({ length: zones }, (_, i) => `${intToIp(start + i * privateSize)}/${bits + 3}`);
    const publicBase = start + 7 * privateSize;
    const publicCidrs = Array.from({ length: zones }, (_, i) => `${intToIp(publicBase + i * publicSize)}/${bits + 5}`);
    return { privateCidrs, publicCidrs };
}
