// Owns how the cost-tracking tag set (lib/tags.ts) reaches AWS. Every resource is
// created under a TaggedScope, whose transformation writes the tags explicitly into
// each taggable resource's `tags` input. Explicit tags rather than the provider's
// defaultTags: they show in every resource's inputs (so tests can check them) and
// avoid the provider's tags/tagsAll diff quirks.
import * as pulumi from "@pulumi/pulumi";
import type { TagSet } from "../lib/tags";

/** AWS resource types in this program that accept `tags`. */
export const TAGGABLE_TYPES: ReadonlySet<string> = new Set([
  "aws:acm/certificate:Certificate",
  "aws:apigateway/domainName:DomainName",
  "aws:apigateway/restApi:RestApi",
  "aws:apigateway/stage:Stage",
  "aws:cloudwatch/logGroup:LogGroup",
  "aws:cloudwatch/metricAlarm:MetricAlarm",
  "aws:cognito/identityPool:IdentityPool",
  "aws:cognito/userPool:UserPool",
  "aws:dynamodb/table:Table",
  "aws:iam/role:Role",
  "aws:lambda/function:Function",
  "aws:s3/bucket:Bucket",
  "aws:sns/topic:Topic",
]);

/** AWS resource types in this program that have no `tags` input. */
export const UNTAGGABLE_TYPES: ReadonlySet<string> = new Set([
  "aws:apigateway/account:Account",
  "aws:acm/certificateValidation:CertificateValidation",
  "aws:apigateway/basePathMapping:BasePathMapping",
  "aws:route53/record:Record",
  "aws:apigateway/authorizer:Authorizer",
  "aws:apigateway/deployment:Deployment",
  "aws:apigateway/integration:Integration",
  "aws:apigateway/method:Method",
  "aws:apigateway/methodSettings:MethodSettings",
  "aws:apigateway/resource:Resource",
  "aws:cloudwatch/dashboard:Dashboard",
  "aws:cloudwatch/logMetricFilter:LogMetricFilter",
  "aws:cognito/identityPoolRoleAttachment:IdentityPoolRoleAttachment",
  "aws:iam/rolePolicy:RolePolicy",
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  "aws:lambda/permission:Permission",
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
  "aws:s3/bucketPolicy:BucketPolicy",
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  "aws:sns/topicSubscription:TopicSubscription",
]);

/**
 * Adds the stack's tags to every taggable resource. An AWS type in neither list
 * fails the program, so a new kind of resource cannot slip in untagged.
 */
export function tagTransformation(tags: TagSet): pulumi.ResourceTransformation {
  return ({ type, props, opts }) => {
    if (!type.startsWith("aws:")) return undefined;
    if (TAGGABLE_TYPES.has(type)) {
      const own = pulumi.output((props.tags ?? {}) as pulumi.Input<Record<string, string>>);
      return { props: { ...props, tags: own.apply((t) => ({ ...t, ...tags })) }, opts };
    }
    if (UNTAGGABLE_TYPES.has(type)) return undefined;
    throw new Error(`tagging: ${type} is in neither TAGGABLE_TYPES nor UNTAGGABLE_TYPES (infra/tagging.ts)`);
  };
}

export interface TaggedScopeArgs {
  tags: TagSet;
}

/** Parent of every resource in the stack; its transformation tags them all. */
export class TaggedScope extends pulumi.ComponentResource {
  constructor(name: string, args: TaggedScopeArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("haumana:infra:TaggedScope", name, {}, {
      ...opts,
      transformations: [tagTransformation(args.tags), ...(opts.transformations ?? [])],
    });
    this.registerOutputs({});
  }
}
