// Owns the API's definition: the OpenAPI document API Gateway builds the whole REST
// API from (every resource, method, Lambda proxy integration and the authorizer),
// generated from the route table in lib/routes.ts. Pure: it takes resolved values
// and returns the document, so tests can build it from any route table.
import { pathParameters, type Route } from "../lib/routes";

/** The TOKEN authorizer's settings. */
export interface AuthorizerSettings {
  /** `method.request.header.<Name>`: the header carrying the token. */
  identitySource: string;
  /** API Gateway caches a decision per token this long. */
  authorizerResultTtlInSeconds: number;
}

export interface ApiDefinitionInput {
  title: string;
  routes: readonly Route[];
  authorizer: AuthorizerSettings & { uri: string };
  /** The invoke ARN (integration URI) of each route's function. */
  integrationUri: (fn: Route["fn"]) => string;
}

/** Name of the authorizer (the security scheme) inside the API. */
export const AUTHORIZER_SCHEME = "google-id-token";

export function apiDefinition(input: ApiDefinitionInput): Record<string, unknown> {
  // A TOKEN authorizer reads the header named by its security scheme (the
  // extension's identitySource is for REQUEST authorizers only).
  const header = /^method\.request\.header\.([A-Za-z0-9-]+)$/.exec(input.authorizer.identitySource)?.[1];
  if (!header) throw new Error(`authorizer identitySource must be a request header: got ${input.authorizer.identitySource}`);
  const paths: Record<string, Record<string, unknown>> = {};
  const sorted = [...input.routes].sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
  for (const route of sorted) {
    const params = pathParameters(route.path);
    const operation = {
      ...(params.length > 0
        ? { parameters: params.map((name) => ({ name, in: "path", required: true, schema: { type: "string" } })) }
        : {}),
      responses: {},
      ...(route.authorized ? { security: [{ [AUTHORIZER_SCHEME]: [] }] } : {}),
      "x-amazon-apigateway-integration": {
        type: "aws_proxy",
        // Lambda is always invoked with POST, whatever the route's method.
        httpMethod: "POST",
        uri: input.integrationUri(route.fn),
        passthroughBehavior: "when_no_match",
      },
    };
    const key = `/${route.path}`;
    const byMethod = (paths[key] ??= {});
    const method = route.method.toLowerCase();
    if (byMethod[method]) throw new Error(`route table: ${route.method} /${route.path} is listed twice`);
    byMethod[method] = operation;
  }
  return {
    openapi: "3.0.1",
    info: { title: input.title, version: "1" },
    paths,
    components: {
      securitySchemes: {
        [AUTHORIZER_SCHEME]: {
          type: "apiKey",
          name: header,
          in: "header",
          "x-amazon-apigateway-authtype": "custom",
          "x-amazon-apigateway-authorizer": {
            type: "token",
            authorizerUri: input.authorizer.uri,
            authorizerResultTtlInSeconds: input.authorizer.authorizerResultTtlInSeconds,
          },
        },
      },
    },
  };
}
