// Owns the DynamoDB tables. Key layout comes from lib/tables.ts (the definition the
// local server and tests also use); this module adds what only AWS has: billing,
// recovery, encryption and the guards against losing user data.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { attributeDefinitions, PIECES_TABLE, SESSIONS_TABLE, type TableSchema } from "../lib/tables";

export interface TablesArgs {
  piecesTableName: string;
  sessionsTableName: string;
  /**
   * Pulumi `protect` (`pulumi destroy` refuses), `retainOnDelete` (a table that
   * leaves the program is forgotten, not deleted) and DynamoDB deletion protection
   * (nothing outside Pulumi deletes it either). Off in dev, so dev can be torn down.
   */
  protectData: boolean;
}

export class Tables extends pulumi.ComponentResource {
  readonly pieces: aws.dynamodb.Table;
  readonly sessions: aws.dynamodb.Table;

  constructor(name: string, args: TablesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("haumana:infra:Tables", name, {}, opts);
    this.pieces = this.table(PIECES_TABLE, args.piecesTableName, args.protectData);
    this.sessions = this.table(SESSIONS_TABLE, args.sessionsTableName, args.protectData);
    this.registerOutputs({ pieces: this.pieces.name, sessions: this.sessions.name });
  }

  private table(schema: TableSchema, tableName: string, protect: boolean): aws.dynamodb.Table {
    return new aws.dynamodb.Table(
      `${schema.key}-table`,
      {
        name: tableName,
        billingMode: "PAY_PER_REQUEST",
        hashKey: schema.hashKey,
        rangeKey: schema.rangeKey,
        attributes: attributeDefinitions(schema),
        localSecondaryIndexes: schema.indexes.map((i) => ({ name: i.name, rangeKey: i.rangeKey, projectionType: i.projection })),
        ttl: { attributeName: schema.ttlAttribute, enabled: true },
        pointInTimeRecovery: { enabled: true },
        // KMS with the AWS-managed key (aws/dynamodb): no key fee, and CloudTrail
        // records key use, which the default AWS-owned key does not.
        serverSideEncryption: { enabled: true },
        deletionProtectionEnabled: protect,
      },
      { parent: this, protect, retainOnDelete: protect },
    );
  }
}
