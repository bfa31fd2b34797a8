/**
 * AWS list prices the cost estimate uses, USD, Linux, on-demand unless said otherwise.
 *
 * Date and source: the public AWS pricing pages named per item below, at the prices published through 2025
 * (PRICES_AS_OF). This machine has no network, so they were not re-fetched when the benchmark was written;
 * g5.xlarge in us-east-1 ($1.006/h) and NAT gateway in us-east-1 ($0.045/h, $0.045/GB) match third-party
 * summaries of the 2026 price list. Check the pages before quoting a figure; a missing instance type makes
 * the benchmark say which one to add here rather than guess.
 *
 * The small types (t3a, t3, and Graviton t4g, m6g, m7g; the NAT instance is a t4g.nano) were added in December 2026 from the same
 * on-demand page (PRICE_SOURCES.ec2), also from the published list prices as recalled, not re-fetched: check them.
 */

export const PRICES_AS_OF = "2025 AWS public price list (not re-fetched; verify on the pages below)";

/** Hours in the month AWS bills by (365 × 24 / 12). */
export const HOURS_PER_MONTH = 730;

export const PRICE_SOURCES = {
    eks: "https://aws.amazon.com/eks/pricing/ (standard support; extended-support versions cost $0.60/h)",
    vpc: "https://aws.amazon.com/vpc/pricing/ (NAT gateway hourly and per GB processed; public IPv4 $0.005/h since 2024-02-01)",
    elb: "https://aws.amazon.com/elasticloadbalancing/pricing/ (ALB/NLB hour; LCU/NLCU usage extra)",
    ec2: "https://aws.amazon.com/ec2/pricing/on-demand/ (Linux, shared tenancy; also the NAT instance's type)",
    spot: "https://aws.amazon.com/ec2/spot/instance-advisor/ (savings over on-demand by type and region)",
    ebs: "https://aws.amazon.com/ebs/pricing/ (gp3 GB-month)",
    s3: "https://aws.amazon.com/s3/pricing/ (S3 Standard, first 50 TB)",
    ecr: "https://aws.amazon.com/ecr/pricing/ (storage GB-month)",
    kms: "https://aws.amazon.com/kms/pricing/ (customer managed key per month, before request charges)",
    logs: "https://aws.amazon.com/cloudwatch/pricing/ (log ingestion per GB)",
} as const;

export interface RegionPrices {
    /** EKS control plane, per cluster-hour. */
    readonly eksControlPlaneHour: number;
    /** NAT gateway, per gateway-hour. */
    readonly natGatewayHour: number;
    /** NAT gateway data processing, per GB (not in the totals: depends on traffic). */
    readonly natGatewayPerGB: number;
    /** Public IPv4 address (each NAT gateway's Elastic IP), per hour. */
    readonly publicIpv4Hour: number;
    /** Application or Network Load Balancer, per hour (LCU usage not included). */
    readonly loadBalancerHour: number;
    /** EBS gp3, per GB-month. */
    readonly ebsGp3GBMonth: number;
    /** S3 Standard, per GB-month. */
    readonly s3GBMonth: number;
    /** ECR storage, per GB-month. */
    readonly ecrGBMonth: number;
    /** KMS customer managed key, per key-month. */
    readonly kmsKeyMonth: number;
    /** CloudWatch Logs ingestion (control-plane logs), per GB (not in the totals: depends on volume). */
    readonly logsIngestPerGB: number;
    /** EC2 on-demand, per instance-hour. */
    readonly instanceHour: Readonly<Record<string, number>>;
}

export const AWS_PRICES = {
    "eu-west-1": {
        eksControlPlaneHour: 0.1,
        natGatewayHour: 0.048,
        natGatewayPerGB: 0.048,
        publicIpv4Hour: 0.005,
        loadBalancerHour: 0.0252,
        ebsGp3GBMonth: 0.088,
        s3GBMonth: 0.023,
        ecrGBMonth: 0.1,
        kmsKeyMonth: 1.0,
        logsIngestPerGB: 0.57,
        instanceHour: {
            "m6i.large": 0.107,
            "t3a.medium": 0.0408,
            "t3.medium": 0.0456,
            "t4g.nano": 0.0046,
            "t4g.small": 0.0184,
            "t4g.medium": 0.0368,
            "t4g.large": 0.0736,
            "m6g.medium": 0.0428,
            "m6g.large": 0.0856,
            "m7g.medium": 0.0455,
            "m7g.large": 0.091,
            "m6i.xlarge": 0.214,
            "m6i.2xlarge": 0.428,
            "g4dn.xlarge": 0.587,
            "g4dn.2xlarge": 0.838,
            "g5.xlarge": 1.123,
            "g5.2xlarge": 1.353,
        },
    },
    "us-east-1": {
        eksControlPlaneHour: 0.1,
        natGatewayHour: 0.045,
        natGatewayPerGB: 0.045,
        publicIpv4Hour: 0.005,
        loadBalancerHour: 0.0225,
        ebsGp3GBMonth: 0.08,
        s3GBMonth: 0.023,
        ecrGBMonth: 0.1,
        kmsKeyMonth: 1.0,
        logsIngestPerGB: 0.5,
        instanceHour: {
            "m6i.large": 0.096,
            "t3a.medium": 0.0376,
            "t3.medium": 0.0416,
            "t4g.nano": 0.0042,
            "t4g.small": 0.0168,
            "t4g.medium": 0.0336,
            "t4g.large": 0.0672,
            "m6g.medium": 0.0385,
            "m6g.large": 0.077,
            "m7g.medium": 0.0408,
            "m7g.large": 0.0816,
            "m6i.xlarge": 0.192,
            "m6i.2xlarge": 0.384,
            "g4dn.xlarge": 0.526,
            "g4dn.2xlarge": 0.752,
            "g5.xlarge": 1.006,
            "g5.2xlarge": 1.212,
        },
    },
} as const satisfies Record<string, RegionPrices>;

/**
 * Spot price as a fraction of on-demand. Spot prices move by the hour; the Spot Instance Advisor shows
 * g4dn/g5 savings of roughly 60-70% in these regions, so 0.4 (a 60% saving) is a cautious planning figure; the
 * advisor shows t4g and m6g savings in the same range, so spot system nodes use the same factor.
 */
export const SPOT_PRICE_FACTOR = 0.4;

/**
 * Storage a stack holds that its config does not size: the estimate adds these so the total is not
 * misleadingly low. Change them to your data; they are shown as "assumed" lines.
 */
export const ASSUMED_STORAGE_GB = {
    /** Models and datasets in S3 (both buckets, all object versions). */
    s3: 100,
    /** Model-server images in ECR. */
    ecr: 10,
} as const;
