// `haumana-ops preflight`: before `pulumi up`, looks up every physical name the
// program will create (lib/names.ts physicalNames, the list the program is tested
// against) and reports each that already exists outside this stack, with where it
// lives. A `pulumi up` that meets one fails part-way and Pulumi does not roll back;
// `pulumi preview` does not see it. With `adoptRestApiId` it also checks the API to
// adopt: that it exists with its `prod` stage, that CloudFormation has released it,
// that it is regional, and that the route table serves every route the app calls.
// Read-only: it sends no write.
import { GetDomainNameCommand, GetRestApiCommand, GetRestApisCommand, GetStageCommand } from "@aws-sdk/client-api-gateway";
import { DescribeStacksCommand } from "@aws-sdk/client-cloudformation";
import { DescribeAlarmsCommand, GetDashboardCommand } from "@aws-sdk/client-cloudwatch";
import { DescribeLogGroupsCommand, ListTagsForResourceCommand } from "@aws-sdk/client-cloudwatch-logs";
import { DescribeIdentityPoolCommand, ListIdentityPoolsCommand } from "@aws-sdk/client-cognito-identity";
import { DescribeUserPoolCommand, ListUserPoolsCommand } from "@aws-sdk/client-cognito-identity-provider";
import { DescribeTableCommand, ListTagsOfResourceCommand } from "@aws-sdk/client-dynamodb";
import { GetRoleCommand } from "@aws-sdk/client-iam";
import { GetFunctionCommand } from "@aws-sdk/client-lambda";
import { ListTopicsCommand } from "@aws-sdk/client-sns";
import { EXIT, ExitCode } from "../exit-codes";
import { AwsRequestError, UsageError } from "../errors";
import { send, Sender } from "../aws";
import { liveCollisions, NAME_KINDS, type NameKind, type PhysicalName } from "../../lib/names";
import { stackPhysicalNames } from "../../lib/stack-names";
import { ROUTES, routeKey, unservedAppRoutes, type Route } from "../../lib/routes";
import type { StackSettings } from "../../lib/stack-config";
import { Colours, table } from "../ui";

export interface PreflightDeps {
  dynamodb: Sender;
  lambda: Sender;
  logs: Sender;
  iam: Sender;
  cognito: Sender;
  cognitoIdentity: Sender;
  apigateway: Sender;
  cloudformation: Sender;
  cloudwatch: Sender;
  sns: Sender;
}

/** What this stack already holds (from `pulumi stack export`): its resources by type and id. */
export interface StackState {
  has(pulumiType: string, id: string): boolean;
}

export interface PreflightOptions {
  settings: StackSettings;
  state?: StackState;
  /** The route table the program deploys (default lib/routes.ts). */
  routes?: readonly Route[];
}

/** Where an existing resource lives, as far as its tags tell. */
export interface Owner {
  /** `aws:cloudformation:stack-name`, when CloudFormation made it. */
  cloudFormationStack?: string;
  /** DELETE_COMPLETE or gone: the stack is deleted and the resource was retained. */
  cloudFormationStatus?: string;
}

export interface Found {
  /** ARN or id in AWS. */
  id: string;
  arn?: string;
  /** Absent where preflight does not read the resource's tags (SNS topics, alarms, dashboards). */
  owner?: Owner;
}

export type NameStatus = "free" | "collision" | "this-stack";

export interface NameCheck extends PhysicalName {
  status: NameStatus;
  /** Each existing resource with this name (AWS lets some names repeat). */
  found: Found[];
}

export type AdoptStatus = "ready" | "adopted" | "missing" | "stage-missing" | "held-by-cloudformation" | "not-regional";

export interface AdoptCheck {
  restApiId: string;
  stage: string;
  status: AdoptStatus;
  url: string;
  name?: string;
  endpointTypes?: string[];
  /** The deployment the live stage serves now: the rollback points the stage back at it. */
  deploymentId?: string;
  owner?: Owner;
  detail: string;
}

export interface PreflightResult {
  stack: string;
  region: string;
  names: NameCheck[];
  collisions: number;
  adopt?: AdoptCheck;
  /** Routes the shipped app calls that the route table does not serve ("GET /users/{userId}/export"). */
  unservedAppRoutes: string[];
  /** Names equal to one of the live CDK deployment (the program refuses such a prefix). */
  liveNames: string[];
  ok: boolean;
  exitCode: ExitCode;
}

const NOT_FOUND = new Set(["ResourceNotFoundException", "ResourceNotFound", "NoSuchEntity", "NoSuchEntityException", "NotFoundException"]);

async function orUndefined<T>(work: Promise<T>): Promise<T | undefined> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof AwsRequestError && NOT_FOUND.has(err.awsName)) return undefined;
    throw err;
  }
}

type Tags = Record<string, string | undefined>;
const tagList = (list?: { Key?: string; Value?: string }[]): Tags => Object.fromEntries((list ?? []).map((t) => [t.Key ?? "", t.Value]));

type ListedKind = "user-pool" | "identity-pool" | "rest-api" | "sns-topic";

/** Looks names up, kind by kind; list calls are paged once and cached. */
class Lookup {
  private stackStatus = new Map<string, Promise<string>>();
  private lists = new Map<string, Promise<{ id: string; name: string; arn?: string; tags?: Tags }[]>>();

  constructor(private readonly deps: PreflightDeps) {}

  private async owner(tags: Tags): Promise<Owner> {
    const stack = tags["aws:cloudformation:stack-name"];
    if (!stack) return {};
    const stackId = tags["aws:cloudformation:stack-id"] ?? stack;
    if (!this.stackStatus.has(stackId)) this.stackStatus.set(stackId, this.cfnStatus(stackId));
    return { cloudFormationStack: stack, cloudFormationStatus: await this.stackStatus.get(stackId)! };
  }

  private async cfnStatus(stackId: string): Promise<string> {
    try {
      const out = await send<{ Stacks?: { StackStatus?: string }[] }>(this.deps.cloudformation, new DescribeStacksCommand({ StackName: stackId }));
      return out.Stacks?.[0]?.StackStatus ?? "DELETE_COMPLETE";
    } catch (err) {
      // "Stack with id … does not exist": deleted (by name) or never there.
      if (err instanceof AwsRequestError && (err.awsName === "ValidationError" || NOT_FOUND.has(err.awsName))) return "DELETE_COMPLETE";
      throw err;
    }
  }

  async find(kind: NameKind, name: string): Promise<Found[]> {
    const found = await this.raw(kind, name);
    return Promise.all(
      found.map(async (f) => ({ id: f.id, ...(f.arn ? { arn: f.arn } : {}), ...(f.tags ? { owner: await this.owner(f.tags) } : {}) })),
    );
  }

  private async raw(kind: NameKind, name: string): Promise<{ id: string; arn?: string; tags?: Tags }[]> {
    const d = this.deps;
    switch (kind) {
      case "dynamodb-table": {
        const t = await orUndefined(send(d.dynamodb, new DescribeTableCommand({ TableName: name })));
        if (!t?.Table?.TableArn) return [];
        const tags: { Key?: string; Value?: string }[] = [];
        let NextToken: string | undefined;
        do {
          const out = await send(d.dynamodb, new ListTagsOfResourceCommand({ ResourceArn: t.Table.TableArn, NextToken }));
          tags.push(...(out.Tags ?? []));
          NextToken = out.NextToken;
        } while (NextToken);
        return [{ id: name, arn: t.Table.TableArn, tags: tagList(tags) }];
      }
      case "lambda-function": {
        const f = await orUndefined(send(d.lambda, new GetFunctionCommand({ FunctionName: name })));
        return f?.Configuration ? [{ id: name, arn: f.Configuration.FunctionArn, tags: f.Tags ?? {} }] : [];
      }
      case "log-group": {
        let nextToken: string | undefined;
        do {
          const out = await send(d.logs, new DescribeLogGroupsCommand({ logGroupNamePrefix: name, nextToken }));
          const g = out.logGroups?.find((x: { logGroupName?: string }) => x.logGroupName === name);
          if (g) {
            const arn = String(g.arn ?? "").replace(/:\*$/, "");
            const tags = arn ? (await orUndefined(send(d.logs, new ListTagsForResourceCommand({ resourceArn: arn }))))?.tags : undefined;
            return [{ id: name, arn, tags: tags ?? {} }];
          }
          nextToken = out.nextToken;
        } while (nextToken);
        return [];
      }
      case "iam-role": {
        const r = await orUndefined(send(d.iam, new GetRoleCommand({ RoleName: name })));
        return r?.Role ? [{ id: name, arn: r.Role.Arn, tags: tagList(r.Role.Tags) }] : [];
      }
      case "user-pool": {
        const pools = (await this.list("user-pool")).filter((p) => p.name.toLowerCase() === name.toLowerCase());
        return Promise.all(
          pools.map(async (p) => {
            const out = await send(d.cognito, new DescribeUserPoolCommand({ UserPoolId: p.id }));
            return { id: p.id, arn: out.UserPool?.Arn, tags: out.UserPool?.UserPoolTags ?? {} };
          }),
        );
      }
      case "identity-pool": {
        const pools = (await this.list("identity-pool")).filter((p) => p.name.toLowerCase() === name.toLowerCase());
        return Promise.all(
          pools.map(async (p) => {
            const out = await send(d.cognitoIdentity, new DescribeIdentityPoolCommand({ IdentityPoolId: p.id }));
            return { id: p.id, tags: out.IdentityPoolTags ?? {} };
          }),
        );
      }
      case "rest-api":
        return (await this.list("rest-api")).filter((a) => a.name.toLowerCase() === name.toLowerCase());
      case "sns-topic":
        return (await this.list("sns-topic")).filter((t) => t.name === name);
      case "cloudwatch-alarm": {
        const out = await send(d.cloudwatch, new DescribeAlarmsCommand({ AlarmNames: [name] }));
        return [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])]
          .filter((a: { AlarmName?: string }) => a.AlarmName === name)
          .map((a: { AlarmArn?: string }) => ({ id: name, arn: a.AlarmArn }));
      }
      case "cloudwatch-dashboard": {
        const dash = await orUndefined(send(d.cloudwatch, new GetDashboardCommand({ DashboardName: name })));
        return dash?.DashboardName ? [{ id: name, arn: dash.DashboardArn }] : [];
      }
      case "api-domain": {
        const dn = await orUndefined(send(d.apigateway, new GetDomainNameCommand({ domainName: name })));
        return dn?.domainName ? [{ id: name, arn: dn.domainNameArn, tags: dn.tags ?? {} }] : [];
      }
    }
  }

  private list(kind: ListedKind) {
    if (!this.lists.has(kind)) this.lists.set(kind, this.listAll(kind));
    return this.lists.get(kind)!;
  }

  private async listAll(kind: ListedKind): Promise<{ id: string; name: string; arn?: string; tags?: Tags }[]> {
    const out: { id: string; name: string; arn?: string; tags?: Tags }[] = [];
    const d = this.deps;
    if (kind === "user-pool") {
      let NextToken: string | undefined;
      do {
        const page = await send(d.cognito, new ListUserPoolsCommand({ MaxResults: 60, NextToken }));
        for (const p of page.UserPools ?? []) out.push({ id: p.Id!, name: p.Name ?? "" });
        NextToken = page.NextToken;
      } while (NextToken);
    } else if (kind === "sns-topic") {
      let NextToken: string | undefined;
      do {
        const page = await send(d.sns, new ListTopicsCommand({ NextToken }));
        for (const t of page.Topics ?? []) out.push({ id: t.TopicArn!, arn: t.TopicArn!, name: String(t.TopicArn).split(":").pop() ?? "" });
        NextToken = page.NextToken;
      } while (NextToken);
    } else if (kind === "identity-pool") {
      let NextToken: string | undefined;
      do {
        const page = await send(d.cognitoIdentity, new ListIdentityPoolsCommand({ MaxResults: 60, NextToken }));
        for (const p of page.IdentityPools ?? []) out.push({ id: p.IdentityPoolId!, name: p.IdentityPoolName ?? "" });
        NextToken = page.NextToken;
      } while (NextToken);
    } else {
      let position: string | undefined;
      do {
        const page = await send(d.apigateway, new GetRestApisCommand({ limit: 500, position }));
        for (const a of page.items ?? []) out.push({ id: a.id!, name: a.name ?? "", tags: a.tags ?? {} });
        position = page.position;
      } while (position);
    }
    return out;
  }

  async adoptCheck(restApiId: string, stage: string, region: string, state?: StackState): Promise<AdoptCheck> {
    const url = `https://${restApiId}.execute-api.${region}.amazonaws.com/${stage}`;
    const base = { restApiId, stage, url };
    const api = await orUndefined(send(this.deps.apigateway, new GetRestApiCommand({ restApiId })));
    if (!api) return { ...base, status: "missing", detail: `no REST API ${restApiId} in ${region}: check haumana:adoptRestApiId and the account` };
    const endpointTypes: string[] = api.endpointConfiguration?.types ?? [];
    const owner = await this.owner(api.tags ?? {});
    const st = await orUndefined(send(this.deps.apigateway, new GetStageCommand({ restApiId, stageName: stage })));
    const known = { ...base, name: api.name, endpointTypes, owner, ...(st?.deploymentId ? { deploymentId: st.deploymentId } : {}) };
    if (!st) return { ...known, status: "stage-missing", detail: `REST API ${restApiId} has no stage ${stage}: the app's URL is ${url}` };
    if (state?.has(NAME_KINDS["rest-api"].pulumiType, restApiId)) {
      return { ...known, status: "adopted", detail: "already in this stack's state" };
    }
    if (owner.cloudFormationStack && owner.cloudFormationStatus !== "DELETE_COMPLETE") {
      return {
        ...known,
        status: "held-by-cloudformation",
        detail:
          `still in CloudFormation stack ${owner.cloudFormationStack} (${owner.cloudFormationStatus}): ` +
          "release it first (RemovalPolicy RETAIN on every resource, then delete the stack: docs/cutover.md)",
      };
    }
    if (!endpointTypes.includes("REGIONAL")) {
      return {
        ...known,
        status: "not-regional",
        detail:
          `endpoint type ${endpointTypes.join(",") || "unknown"}; the program declares REGIONAL. Convert it first: ` +
          `aws apigateway update-rest-api --rest-api-id ${restApiId} --patch-operations op=replace,path=/endpointConfiguration/types/${endpointTypes[0] ?? "EDGE"},value=REGIONAL`,
      };
    }
    return {
      ...known,
      status: "ready",
      detail: `ready to import; stage ${stage} serves deployment ${st.deploymentId} now (the rollback target)`,
    };
  }
}

/** Checks every name the stack's program will create, and the API it adopts. */
export async function preflight(deps: PreflightDeps, opts: PreflightOptions): Promise<PreflightResult> {
  const { settings, state } = opts;
  // Unchecked: a prefix the program would refuse is looked up too, to show where each clash lives.
  const names = stackPhysicalNames(settings.namePrefix, settings);
  const lookup = new Lookup(deps);
  const checks: NameCheck[] = [];
  // One kind at a time keeps the request rate low (a few dozen requests in all).
  for (const n of names) {
    let found = await lookup.find(n.kind, n.name);
    // The adopted API is renamed to this stack's API name; it is not a collision.
    if (n.kind === "rest-api" && settings.adoptRestApiId) found = found.filter((f) => f.id !== settings.adoptRestApiId);
    const ours = (f: Found) => !!state?.has(NAME_KINDS[n.kind].pulumiType, f.id);
    const status: NameStatus = found.length === 0 ? "free" : found.every(ours) ? "this-stack" : "collision";
    checks.push({ ...n, status, found });
  }
  const adopt = settings.adoptRestApiId
    ? await lookup.adoptCheck(settings.adoptRestApiId, "prod", settings.region, state)
    : undefined;
  const unserved = unservedAppRoutes(opts.routes ?? ROUTES).map(routeKey);
  const collisions = checks.filter((c) => c.status === "collision").length;
  const liveNames = liveCollisions(names).map((n) => n.name);
  // Taking over the app's URL with a route missing breaks that screen of every installed app.
  const ok = collisions === 0 && liveNames.length === 0 && (!adopt || ((adopt.status === "ready" || adopt.status === "adopted") && unserved.length === 0));
  return {
    stack: settings.stack,
    region: settings.region,
    names: checks,
    collisions,
    ...(adopt ? { adopt } : {}),
    unservedAppRoutes: unserved,
    liveNames,
    ok,
    exitCode: ok ? EXIT.OK : EXIT.FAILURE,
  };
}

/** Parses `pulumi stack export` output (a version-3 deployment). */
export function parseStackState(json: string, source: string): StackState & { count: number } {
  let doc: any;
  try {
    doc = JSON.parse(json);
  } catch {
    throw new UsageError(`${source} is not JSON: pass the output of \`pulumi stack export --stack <name>\``);
  }
  const resources = doc?.deployment?.resources;
  if (!Array.isArray(resources)) {
    throw new UsageError(`${source} has no deployment.resources: pass the output of \`pulumi stack export --stack <name>\``);
  }
  const keys = new Set<string>(resources.filter((r: any) => r?.type && r?.id).map((r: any) => `${r.type}\u0000${r.id}`));
  return { has: (type, id) => keys.has(`${type}\u0000${id}`), count: resources.length };
}

function where(f: Found): string {
  const place = f.arn ?? f.id;
  const o = f.owner;
  if (!o) return place;
  if (!o.cloudFormationStack) return `${place} (outside any stack)`;
  const gone = o.cloudFormationStatus === "DELETE_COMPLETE";
  return `${place} (CloudFormation stack ${o.cloudFormationStack}, ${gone ? "deleted; the resource was retained" : o.cloudFormationStatus})`;
}

export function renderPreflight(r: PreflightResult, c: Colours): string {
  const mark = (ok: boolean) => (ok ? c.green("✓") : c.red("✗"));
  const rows = r.names.map((n) => [
    mark(n.status !== "collision"),
    NAME_KINDS[n.kind].label,
    n.name,
    n.status === "free"
      ? "free"
      : n.status === "this-stack"
        ? "exists, in this stack's state"
        : `exists: ${n.found.map(where).join("; ")}` + (n.unique ? "" : " (AWS allows the duplicate, but look-ups by name become ambiguous)"),
  ]);
  const out = [`Stack ${r.stack} (${r.region}): ${r.names.length} names the program creates`, table(rows)];
  if (r.adopt) {
    const a = r.adopt;
    out.push("", `${mark(a.status === "ready" || a.status === "adopted")} adopt REST API ${a.restApiId} (${a.url}): ${a.status}: ${a.detail}`);
  }
  if (r.unservedAppRoutes.length > 0) {
    const blocking = !!r.adopt;
    out.push(
      "",
      `${blocking ? c.red("✗") : c.yellow("!")} routes the app calls that the route table does not serve: ${r.unservedAppRoutes.join(", ")}` +
        (blocking ? " (taking over the app's URL would break them)" : ""),
    );
  }
  if (r.liveNames.length > 0) {
    out.push("", `${c.red("✗")} namePrefix reproduces names of the live CDK deployment (the program refuses it): ${r.liveNames.join(", ")}`);
  }
  out.push(
    "",
    r.ok
      ? c.green("Preflight passed: nothing in the way.")
      : c.red(`Preflight failed: ${r.collisions} name${r.collisions === 1 ? "" : "s"} in use` + (r.adopt && !r.ok ? ", or the API to adopt is not ready" : "") + "."),
  );
  if (r.collisions > 0) {
    out.push(
      "A `pulumi up` now would fail part-way at the first of these, and Pulumi does not roll back. " +
        "If they are this stack's own (after a deploy), pass --state with `pulumi stack export` output.",
    );
  }
  return out.join("\n");
}
