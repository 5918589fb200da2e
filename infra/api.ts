// Owns the public API: the REST API, its routes to the functions, the Google-token
// authorizer in front of the data routes, the `prod` stage with its throttling
// limits and access log, response compression, and the invoke permissions, each
// scoped to this API.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import type { FunctionName } from "../lib/names";
import { MINIMUM_COMPRESSION_BYTES } from "../lib/limits";
import { ROUTES } from "../lib/routes";

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
 * separately: every route has its own bucket of these limits. So each of the
 * routes gets an equal share of STAGE_REQUEST_LIMIT, and all of them together stay
 * within it.
 */
export const METHOD_THROTTLE = {
  throttlingBurstLimit: Math.floor(STAGE_REQUEST_LIMIT.burst / ROUTES.length),
  throttlingRateLimit: Math.floor((STAGE_REQUEST_LIMIT.ratePerSecond / ROUTES.length) * 100) / 100,
} as const;

// Responses of at least MINIMUM_COMPRESSION_BYTES are gzip-compressed for clients
// that send Accept-Encoding (iOS does); the local server compresses the same way.
export { MINIMUM_COMPRESSION_BYTES };

export interface ApiArgs {
  apiName: string;
  functions: Record<FunctionName, aws.lambda.Function>;
  /** Access logging of the stage: the log group, the line format, and what must exist first. */
  accessLog?: { destinationArn: pulumi.Input<string>; format: string; dependsOn: pulumi.Resource[] };
}

export class Api extends pulumi.ComponentResource {
  readonly restApi: aws.apigateway.RestApi;
  readonly stage: aws.apigateway.Stage;
  readonly url: pulumi.Output<string>;

  constructor(name: string, args: ApiArgs, opts?: pulumi.ComponentResourceOptions) {
    super("haumana:infra:Api", name, {}, opts);
    const p = { parent: this };

    const api = new aws.apigateway.RestApi(
      "api",
      { name: args.apiName, endpointConfiguration: { types: "REGIONAL" }, minimumCompressionSize: String(MINIMUM_COMPRESSION_BYTES) },
      p,
    );
    this.restApi = api;

    const authorizerFn = args.functions.authorizer;
    const authorizer = new aws.apigateway.Authorizer(
      "authorizer",
      { name: `${args.apiName}-authorizer`, restApi: api.id, authorizerUri: authorizerFn.invokeArn, ...AUTHORIZER_SETTINGS },
      p,
    );
    new aws.lambda.Permission(
      "authorizer-invoke",
      {
        action: "lambda:InvokeFunction",
        function: authorizerFn.name,
        principal: "apigateway.amazonaws.com",
        sourceArn: pulumi.interpolate`${api.executionArn}/authorizers/${authorizer.id}`,
      },
      p,
    );

    // One API Gateway resource per path segment, shared by routes under it.
    const resources = new Map<string, aws.apigateway.Resource>();
    const resourceFor = (path: string): aws.apigateway.Resource => {
      const existing = resources.get(path);
      if (existing) return existing;
      const slash = path.lastIndexOf("/");
      const parentId = slash < 0 ? api.rootResourceId : resourceFor(path.slice(0, slash)).id;
      const r = new aws.apigateway.Resource(
        `path-${path.replace(/\//g, "-")}`,
        { restApi: api.id, parentId, pathPart: path.slice(slash + 1) },
        p,
      );
      resources.set(path, r);
      return r;
    };

    const routeResources: pulumi.Resource[] = [];
    for (const route of ROUTES) {
      const id = `${route.method.toLowerCase()}-${route.path.replace(/\//g, "-")}`;
      const fn = args.functions[route.fn];
      const resource = resourceFor(route.path);
      const method = new aws.apigateway.Method(
        id,
        {
          restApi: api.id,
          resourceId: resource.id,
          httpMethod: route.method,
          ...(route.authorized ? { authorization: "CUSTOM", authorizerId: authorizer.id } : { authorization: "NONE" }),
        },
        p,
      );
      const integration = new aws.apigateway.Integration(
        id,
        {
          restApi: api.id,
          resourceId: resource.id,
          httpMethod: method.httpMethod,
          type: "AWS_PROXY",
          integrationHttpMethod: "POST",
          uri: fn.invokeArn,
        },
        p,
      );
      new aws.lambda.Permission(
        `${id}-invoke`,
        {
          action: "lambda:InvokeFunction",
          function: fn.name,
          principal: "apigateway.amazonaws.com",
          sourceArn: pulumi.interpolate`${api.executionArn}/*/${route.method}/${route.path}`,
        },
        p,
      );
      routeResources.push(method, integration);
    }

    // A deployment is a snapshot: redeploy whenever the route table, the authorizer
    // settings or an integration's target change.
    const targets = pulumi.all([authorizerFn.invokeArn, ...ROUTES.map((r) => args.functions[r.fn].invokeArn)]);
    const redeployment = targets.apply((uris) =>
      createHash("sha256").update(JSON.stringify({ ROUTES, AUTHORIZER_SETTINGS, MINIMUM_COMPRESSION_BYTES, uris })).digest("hex"),
    );
    const deployment = new aws.apigateway.Deployment(
      "deployment",
      { restApi: api.id, triggers: { redeployment } },
      { ...p, dependsOn: routeResources },
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
      { ...p, dependsOn: accessLog?.dependsOn ?? [] },
    );
    new aws.apigateway.MethodSettings(
      "throttle",
      {
        restApi: api.id,
        stageName: this.stage.stageName,
        methodPath: "*/*",
        settings: { ...METHOD_THROTTLE, metricsEnabled: false },
      },
      p,
    );
    this.url = this.stage.invokeUrl;
    this.registerOutputs({ url: this.url });
  }
}
