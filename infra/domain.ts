// Owns the optional custom domain (`haumana:domainName`): its ACM certificate
// (validated by DNS), the regional API Gateway domain, and the base path mapping
// that serves the stage at the domain's root, so a future app release can call a
// URL that no move of the backend changes. With a Route 53 zone the validation and
// alias records are made too; without one, docs/cutover.md says which records to add.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface DomainArgs {
  domainName: string;
  /** Route 53 hosted zone of the domain; absent: DNS records are added by hand. */
  zoneId?: string;
  restApiId: pulumi.Input<string>;
  stageName: pulumi.Input<string>;
}

export class Domain extends pulumi.ComponentResource {
  /** https://<domain>: the stage at the domain's root (no /prod). */
  readonly url: pulumi.Output<string>;
  /** Where the domain's DNS name must point (CNAME, or Route 53 alias). */
  readonly target: pulumi.Output<string>;
  readonly certificate: aws.acm.Certificate;
  readonly domain: aws.apigateway.DomainName;

  constructor(name: string, args: DomainArgs, opts?: pulumi.ComponentResourceOptions) {
    super("haumana:infra:Domain", name, {}, opts);
    const p = { parent: this };

    // Regional domain: the certificate lives in the stack's region (an edge domain
    // would need one in us-east-1).
    this.certificate = new aws.acm.Certificate("certificate", { domainName: args.domainName, validationMethod: "DNS" }, p);
    const option = this.certificate.domainValidationOptions.apply((o) => o[0]);
    const validationRecord = args.zoneId
      ? new aws.route53.Record(
          "certificate-validation",
          {
            zoneId: args.zoneId,
            name: option.resourceRecordName,
            type: option.resourceRecordType,
            records: [option.resourceRecordValue],
            ttl: 300,
            allowOverwrite: true,
          },
          p,
        )
      : undefined;
    // Waits until ACM has issued the certificate; API Gateway refuses one that is pending.
    const validation = new aws.acm.CertificateValidation(
      "certificate-validation",
      { certificateArn: this.certificate.arn, ...(validationRecord ? { validationRecordFqdns: [validationRecord.fqdn] } : {}) },
      p,
    );
    this.domain = new aws.apigateway.DomainName(
      "domain",
      {
        domainName: args.domainName,
        regionalCertificateArn: validation.certificateArn,
        endpointConfiguration: { types: "REGIONAL" },
        securityPolicy: "TLS_1_2",
      },
      p,
    );
    new aws.apigateway.BasePathMapping(
      "mapping",
      { domainName: this.domain.domainName, restApi: args.restApiId, stageName: args.stageName },
      p,
    );
    if (args.zoneId) {
      new aws.route53.Record(
        "alias",
        {
          zoneId: args.zoneId,
          name: args.domainName,
          type: "A",
          aliases: [{ name: this.domain.regionalDomainName, zoneId: this.domain.regionalZoneId, evaluateTargetHealth: false }],
        },
        p,
      );
    }
    this.url = pulumi.interpolate`https://${this.domain.domainName}`;
    this.target = this.domain.regionalDomainName;
    this.registerOutputs({ url: this.url, target: this.target });
  }
}
