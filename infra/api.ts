// Owns the public API: the REST API, defined whole by the OpenAPI document built
// from the route table (infra/openapi.ts: routes, Lambda proxy integrations, the
// Google-token authorizer), the `prod` stage with its throttling limits and access
// log, response compression, and the invoke permissions, each scoped to this API. With `adoptRestApiId` the REST API
// and its stage are imported instead of created: the live URL keeps working and
// serves this program's functions (docs/cutover.md).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { MINIMUM_COMPRESSION_BYTES } from "../lib/limits";
import type { FunctionName } from "../lib/names";
import { arnPath, ROUTES, type Route } from "../lib/routes";
import { apiDefinition } from "./openapi";

export { ROUTES };

export const STAGE_NAME = "prod";

export const AUTHORIZER_SETTINGS = {
  type: "TOKEN",
  identitySource: "method.request.header.Authorization",
  /** API Gateway caches a decision per token this long. */
  authorizerResultTtlInSeconds: 300,
} as const;

/** Cost guard: what a runaway client may push through the whole stage. */
export const STAGE_REQUEST_LIMIT = { burst: 20, ratePerSecond: 10 } as const;

/**
 * API Gateway applies the stage's default method settings ("*\/*") to each method
 * separately: every route has its own bucket of these limits. A route with its own
 * limit in the table (the rarely called account routes) keeps it; every other route
 * gets an equal share of what STAGE_REQUEST_LIMIT leaves, so all of them together
 * stay within it.
 */
export function methodThrottle(routes: readonly Route[] = ROUTES) {
  const own = routes.filter((r) => r.throttle);
  const shared = routes.length - own.length;
  const burst = STAGE_REQUEST_LIMIT.burst - own.reduce((n, r) => n + r.throttle!.burst, 0);
  const rate = STAGE_REQUEST_LIMIT.ratePerSecond - own.reduce((n, r) => n + r.throttle!.ratePerSecond, 0);
  return {
    throttlingBurstLimit: Math.floor(burst / Math.max(shared, 1)),
    throttlingRateLimit: Math.floor((rate / Math.max(shared, 1)) * 100) / 100,
  };
}
export const METHOD_THROTTLE = methodThrottle();

/** MethodSettings' path of one method: the resource path without its leading slash, then the method. */
export const methodPath = (route: Route) => `${route.path}/${route.method}`;

// Responses of at least MINIMUM_COMPRESSION_BYTES are gzip-compressed for clients
// that send Accept-Encoding (iOS does); the local server compresses the same way.
export { MINIMUM_COMPRESSION_BYTES };

/**
 * `overwrite`: each update replaces the API's whole definition with the document,
 * so a route dropped from the table is deleted (and an adopted API loses every
 * resource, method and authorizer the CDK stack made).
 */
export const PUT_REST_API_MODE = "overwrite";

export interface ApiArgs {
  apiName: string;
  functions: Record<FunctionName, aws.lambda.Function>;
  /** Default: the route table of lib/routes.ts. */
  routes?: readonly Route[];
  /** Id of an existing REST API to import, with its `prod` stage, instead of creating one. */
  adoptRestApiId?: string;
  /** Pulumi `protect` on the REST API and stage (always on for an adopted API: its id is in every installed app). */
  protect?: boolean;
  /** Access logging of the stage: the log group, the line format, and what must exist first. */
  accessLog?: { destinationArn: pulumi.Input<string>; format: string; dependsOn: pulumi.Resource[] };
}

/** The hash that names a deployment: of every input that shapes what the stage serves (key order ignored). */
export function deploymentHash(definition: unknown): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : v && typeof v === "object"
        ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]))
        : v;
  return createHash("sha256").update(JSON.stringify(canonical(definition))).digest("hex");
}

/** Pulumi resource name fragment of a route: `GET users/{userId}/export` → `get-users-userId-export`. */
export function routeResourceName(route: Route): string {
  return `${route.method.toLowerCase()}-${route.path.replace(/[{}]/g, "").replace(/\//g, "-")}`;
}

export class Api extends pulumi.ComponentResource {
  readonly restApi: aws.apigateway.RestApi;
  readonly stage: aws.apigateway.Stage;
  readonly url: pulumi.Output<string>;

  constructor(name: string, args: ApiArgs, opts?: pulumi.ComponentResourceOptions) {
    super("haumana:infra:Api", name, {}, opts);
    const p = { parent: this };
    const routes = args.routes ?? ROUTES;
    const adopt = args.adoptRestApiId;
    // An adopted API cannot be recreated with the same id: never delete it, even
    // if the program stops declaring it.
    const keep = { protect: !!adopt || !!args.protect, ...(adopt ? { retainOnDelete: true } : {}) };

    const fnUris = Object.fromEntries(routes.map((r) => [r.fn, args.functions[r.fn].invokeArn]));
    const body = pulumi.all([args.functions.authorizer.invokeArn, fnUris]).apply(([authorizerUri, uris]) =>
      JSON.stringify(
        apiDefinition({
          title: args.apiName,
          routes,
          authorizer: { ...AUTHORIZER_SETTINGS, uri: authorizerUri },
          integrationUri: (fn) => uris[fn],
        }),
      ),
    );
    // Every setting of the REST API is here, so the deployment hash below sees it.
    const restApiArgs: aws.apigateway.RestApiArgs = {
      name: args.apiName,
      description: "Haumana sync API (generated from lib/routes.ts)",
      endpointConfiguration: { types: "REGIONAL" },
      body,
      putRestApiMode: PUT_REST_API_MODE,
      minimumCompressionSize: String(MINIMUM_COMPRESSION_BYTES),
    };
    const api = new aws.apigateway.RestApi("api", restApiArgs, { ...p, ...keep, ...(adopt ? { import: adopt } : {}) });
    this.restApi = api;

    // Invoke permissions, created before the stage points at a deployment that
    // needs them (an adopted stage serves live traffic the moment it moves).
    const authorizerFn = args.functions.authorizer;
    const permissions: pulumi.Resource[] = [
      new aws.lambda.Permission(
        "authorizer-invoke",
        {
          action: "lambda:InvokeFunction",
          function: authorizerFn.name,
          principal: "apigateway.amazonaws.com",
          // The authorizer's id is API Gateway's (it comes from the document).
          sourceArn: pulumi.interpolate`${api.executionArn}/authorizers/*`,
        },
        p,
      ),
      ...routes.map(
        (route) =>
          new aws.lambda.Permission(
            `${routeResourceName(route)}-invoke`,
            {
              action: "lambda:InvokeFunction",
              function: args.functions[route.fn].name,
              principal: "apigateway.amazonaws.com",
              sourceArn: pulumi.interpolate`${api.executionArn}/*/${route.method}/${arnPath(route.path)}`,
            },
            p,
          ),
      ),
    ];

    // A deployment is a snapshot: redeploy whenever anything the REST API is made
    // of changes (routes, integrations, authorizer, settings). Created after the
    // document is applied, so a route removed from the table is not in it.
    const { tags: _tags, ...shape } = restApiArgs;
    const redeployment = pulumi.output(shape).apply(deploymentHash);
    const deployment = new aws.apigateway.Deployment(
      "deployment",
      { restApi: api.id, triggers: { redeployment } },
      { ...p, dependsOn: permissions },
    );
    const accessLog = args.accessLog;
    this.stage = new aws.apigateway.Stage(
      "stage",
      {
        restApi: api.id,
        deployment: deployment.id,
        stageName: STAGE_NAME,
        ...(accessLog ? { accessLogSettings: { destinationArn: accessLog.destinationArn, format: accessLog.format } } : {}),
      },
      { ...p, ...keep, ...(adopt ? { import: `${adopt}/${STAGE_NAME}` } : {}), dependsOn: accessLog?.dependsOn ?? [] },
    );
    const throttle = methodThrottle(routes);
    new aws.apigateway.MethodSettings(
      "throttle",
      {
        restApi: api.id,
        stageName: this.stage.stageName,
        methodPath: "*/*",
        settings: { ...throttle, metricsEnabled: false },
      },
      p,
    );
    for (const route of routes.filter((r) => r.throttle)) {
      new aws.apigateway.MethodSettings(
        `throttle-${routeResourceName(route)}`,
        {
          restApi: api.id,
          stageName: this.stage.stageName,
          methodPath: methodPath(route),
          settings: { throttlingBurstLimit: route.throttle!.burst, throttlingRateLimit: route.throttle!.ratePerSecond, metricsEnabled: false },
        },
        p,
      );
    }
    this.url = this.stage.invokeUrl;
    this.registerOutputs({ url: this.url });
  }
}
