// Owns the bucket that account-data exports pass through (GET /users/{userId}/export
// writes the document there and answers with a presigned link to it): private
// (public access blocked, ACLs off, reachable over TLS only), encrypted at rest
// (SSE-S3), and every object under the export prefix expired after
// EXPORT_RETENTION_DAYS. The name is a prefix plus S3's random suffix: bucket names
// are global across all AWS accounts, so a fixed one could already be anyone's.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface ExportBucketArgs {
  /** Start of the bucket's name (lib/names.ts exportBucketPrefix); at most 37 characters. */
  bucketPrefix: string;
  /** Key prefix of the exports (lib/exports.ts). */
  keyPrefix: string;
  retentionDays: number;
}

/** S3 refuses a longer bucket prefix (the suffix takes the rest of the 63 characters). */
export const MAX_BUCKET_PREFIX_CHARS = 37;

export class ExportBucket extends pulumi.ComponentResource {
  readonly bucket: aws.s3.Bucket;
  /** Ready to take objects: encryption, access block, ownership and policy are in place. */
  readonly ready: pulumi.Resource[];

  constructor(name: string, args: ExportBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super("haumana:infra:ExportBucket", name, {}, opts);
    const p = { parent: this };
    if (args.bucketPrefix.length > MAX_BUCKET_PREFIX_CHARS) {
      throw new Error(`exports: bucket prefix "${args.bucketPrefix}" is longer than ${MAX_BUCKET_PREFIX_CHARS} characters: use a shorter namePrefix`);
    }
    // Exports are short-lived copies of what DynamoDB holds: destroying the stack may empty the bucket.
    this.bucket = new aws.s3.Bucket("exports", { bucketPrefix: args.bucketPrefix, forceDestroy: true }, p);
    const bucket = this.bucket.id;

    const ownership = new aws.s3.BucketOwnershipControls("exports-ownership", { bucket, rule: { objectOwnership: "BucketOwnerEnforced" } }, p);
    const publicAccess = new aws.s3.BucketPublicAccessBlock(
      "exports-public-access",
      { bucket, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
      p,
    );
    const encryption = new aws.s3.BucketServerSideEncryptionConfiguration(
      "exports-encryption",
      { bucket, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] },
      p,
    );
    const lifecycle = new aws.s3.BucketLifecycleConfiguration(
      "exports-expiry",
      {
        bucket,
        rules: [
          {
            id: "expire-exports",
            status: "Enabled",
            filter: { prefix: args.keyPrefix },
            expiration: { days: args.retentionDays },
            abortIncompleteMultipartUpload: { daysAfterInitiation: args.retentionDays },
          },
        ],
      },
      p,
    );
    const policy = new aws.s3.BucketPolicy(
      "exports-tls-only",
      {
        bucket,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "DenyInsecureTransport",
              Effect: "Deny",
              Principal: "*",
              Action: "s3:*",
              Resource: [this.bucket.arn, pulumi.interpolate`${this.bucket.arn}/*`],
              Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
          ],
        }),
      },
      { ...p, dependsOn: [publicAccess] },
    );
    this.ready = [ownership, publicAccess, encryption, lifecycle, policy];
    this.registerOutputs({ bucket: this.bucket.bucket });
  }
}
