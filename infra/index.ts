// The Haumana stack: wires the modules together and exports what the app and the
// ops CLI need. Configuration comes from Pulumi.<stack>.yaml through config.ts.
import * as aws from "@pulumi/aws";
import { EXPORT_KEY_PREFIX, EXPORT_RETENTION_DAYS } from "../lib/exports";
import { ACCESS_LOG_FORMAT, opsNames } from "../lib/monitoring";
import { FUNCTION_NAMES, resourceNames, type FunctionName } from "../lib/names";
import { stackTags } from "../lib/tags";
import { AccessLogs } from "./access-logs";
import { Api, STAGE_NAME } from "./api";
import { loadConfig } from "./config";
import { Domain } from "./domain";
import { ExportBucket } from "./exports";
import { Functions } from "./functions";
import { Identity } from "./identity";
import { Monitoring } from "./monitoring";
import { Tables } from "./tables";
import { TaggedScope } from "./tagging";

const config = loadConfig();
const names = resourceNames(config.namePrefix);
const ops = opsNames(config.namePrefix);

const provider = new aws.Provider("aws", { region: config.region as aws.Region });
const tags = stackTags(config);
const scope = new TaggedScope("haumana", { tags }, { providers: [provider] });
const under = { parent: scope };

const identity = new Identity(
  "identity",
  {
    userPoolName: names.userPool,
    identityPoolName: names.identityPool,
    authenticatedRoleName: names.identityRole,
    // The identity pool federates the iOS app's sign-in.
    googleClientId: config.googleClientIds[0],
    protectData: config.protectData,
  },
  under,
);

const tables = new Tables(
  "tables",
  { piecesTableName: names.piecesTable, sessionsTableName: names.sessionsTable, protectData: config.protectData },
  under,
);

const exportBucket = new ExportBucket(
  "exports",
  { bucketPrefix: names.exportBucketPrefix, keyPrefix: EXPORT_KEY_PREFIX, retentionDays: EXPORT_RETENTION_DAYS },
  under,
);

const functions = new Functions(
  "functions",
  {
    names,
    logRetentionDays: config.logRetentionDays,
    googleClientIds: config.googleClientIds,
    userPool: { id: identity.userPool.id, arn: identity.userPool.arn },
    piecesTable: { name: tables.pieces.name, arn: tables.pieces.arn },
    sessionsTable: { name: tables.sessions.name, arn: tables.sessions.arn },
    exportBucket: { name: exportBucket.bucket.bucket, arn: exportBucket.bucket.arn, ready: exportBucket.ready },
    tags,
  },
  under,
);

const accessLogs = new AccessLogs(
  "access-logs",
  {
    logGroupName: ops.accessLogGroup,
    retentionInDays: config.logRetentionDays,
    manageAccount: config.manageApiGatewayAccount,
    roleName: ops.apiGatewayCloudWatchRole,
  },
  under,
);

const api = new Api(
  "api",
  {
    apiName: names.api,
    functions: functions.functions,
    accessLog: { destinationArn: accessLogs.logGroup.arn, format: ACCESS_LOG_FORMAT, dependsOn: accessLogs.ready },
    adoptRestApiId: config.adoptRestApiId,
    protect: config.protectData,
  },
  under,
);

const monitoring = new Monitoring(
  "monitoring",
  {
    namePrefix: config.namePrefix,
    region: config.region,
    alertEmails: config.alertEmails,
    functionNames: Object.fromEntries(FUNCTION_NAMES.map((fn) => [fn, names.fn(fn)])) as Record<FunctionName, string>,
    apiName: names.api,
    stageName: STAGE_NAME,
    tableNames: { pieces: names.piecesTable, sessions: names.sessionsTable },
    logGroups: functions.logGroups,
  },
  under,
);
const domain = config.domainName
  ? new Domain(
      "domain",
      { domainName: config.domainName, zoneId: config.domainZoneId, restApiId: api.restApi.id, stageName: api.stage.stageName },
      under,
    )
  : undefined;

export const apiUrl = api.url;
/** Only with haumana:domainName: the API at the custom domain, and where its DNS name must point. */
export const apiDomainUrl = domain?.url;
export const apiDomainTarget = domain?.target;
export const userPoolId = identity.userPool.id;
export const identityPoolId = identity.identityPool.id;
export const piecesTableName = tables.pieces.name;
export const sessionsTableName = tables.sessions.name;
export const region = config.region;
export const alarmTopicArn = monitoring.topic.arn;
export const dashboardUrl = monitoring.dashboardUrl;
