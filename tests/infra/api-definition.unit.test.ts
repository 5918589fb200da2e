// The API is one definition, built from the route table: any change to the table
// or to the REST API's settings changes the deployment (so the stage is
// redeployed), and a route removed from the table is gone from what the stage
// serves. Each case runs the whole program under mocks with a different route
// table (lib/routes.ts replaced for that run only).
import { apiDefinition } from "../../infra/openapi";
import { deploymentHash } from "../../infra/api";
import type { Route } from "../../lib/routes";
import { runStack, type StackRun } from "./harness";
import { openApiRoutes } from "./rules";

const actualRoutes = jest.requireActual("../../lib/routes") as typeof import("../../lib/routes");
const BASE = actualRoutes.ROUTES;

function withRoutes(routes: readonly Route[]) {
  return {
    "../lib/routes": () => ({ ...actualRoutes, ROUTES: routes, AUTHORIZED_ROUTES: routes.filter((r) => r.authorized) }),
  };
}

const one = (run: StackRun, type: string) => {
  const rs = run.ofType(type);
  expect(rs).toHaveLength(1);
  return rs[0];
};
const trigger = (run: StackRun) => one(run, "aws:apigateway/deployment:Deployment").inputs.triggers.redeployment as string;
const served = (run: StackRun) => openApiRoutes(one(run, "aws:apigateway/restApi:RestApi").inputs.body).map((r) => r.key).sort();
const grants = (run: StackRun) => run.ofType("aws:lambda/permission:Permission").map((p) => String(p.inputs.sourceArn).replace(/^.*?:api\d+\//, "")).sort();

// Routes the table does not have (it has /users/{userId} and three under it already).
const STATS: Route = { path: "users/{userId}/stats", method: "GET", fn: "sync-pieces", authorized: true };
const PUT_PIECE: Route = { path: "users/{userId}/pieces/{pieceId}", method: "PUT", fn: "sync-sessions", authorized: true };

let base: StackRun;
beforeAll(async () => {
  base = await runStack("dev", { stubCode: true });
});

test("the same table gives the same deployment (no redeploy without a change)", async () => {
  const again = await runStack("dev", { stubCode: true, modules: withRoutes([...BASE]) });
  expect(trigger(again)).toBe(trigger(base));
  expect(served(again)).toEqual(served(base));
});

test("a route added (with a path parameter, another method, nested under another): served, invocable, redeployed", async () => {
  const run = await runStack("dev", { stubCode: true, modules: withRoutes([...BASE, STATS, PUT_PIECE]) });
  expect(trigger(run)).not.toBe(trigger(base));
  expect(served(run)).toEqual([...served(base), "GET /users/{userId}/stats", "PUT /users/{userId}/pieces/{pieceId}"].sort());
  const doc = JSON.parse(one(run, "aws:apigateway/restApi:RestApi").inputs.body);
  expect(doc.paths["/users/{userId}/stats"].get.parameters).toEqual([{ name: "userId", in: "path", required: true, schema: { type: "string" } }]);
  expect(doc.paths["/users/{userId}/pieces/{pieceId}"].put.parameters.map((p: { name: string }) => p.name)).toEqual(["userId", "pieceId"]);
  expect(doc.paths["/users/{userId}/pieces/{pieceId}"].put.security).toEqual([{ "google-id-token": [] }]);
  // A parameter matches any one value in the execute-api ARN.
  expect(grants(run)).toEqual(expect.arrayContaining(["*/GET/users/*/stats", "*/PUT/users/*/pieces/*"]));
});

test("a route removed from the table is no longer in the API, nor invocable, and the stage is redeployed without it", async () => {
  const run = await runStack("dev", { stubCode: true, modules: withRoutes(BASE.filter((r) => r.path !== "sessions")) });
  expect(trigger(run)).not.toBe(trigger(base));
  expect(served(run)).toEqual(served(base).filter((k) => k !== "POST /sessions"));
  expect(grants(run).some((g) => g.includes("sessions"))).toBe(false);
  // The document replaces the API whole (overwrite), so the old method cannot linger
  // in the deployment taken after it.
  const api = one(run, "aws:apigateway/restApi:RestApi");
  expect(api.inputs.putRestApiMode).toBe("overwrite");
  const deployment = one(run, "aws:apigateway/deployment:Deployment");
  expect(deployment.inputs.restApi).toBe(api.id);
});

test("a route's settings changed (authorization, target function) redeploy", async () => {
  const open = await runStack("dev", {
    stubCode: true,
    modules: withRoutes(BASE.map((r) => (r.path === "sessions" ? { ...r, authorized: false } : r))),
  });
  expect(trigger(open)).not.toBe(trigger(base));
  const retarget = await runStack("dev", {
    stubCode: true,
    modules: withRoutes(BASE.map((r) => (r.path === "sessions" ? { ...r, fn: "sync-pieces" as const } : r))),
  });
  expect(trigger(retarget)).not.toBe(trigger(base));
});

test("the deployment hash covers every REST API input: changing any one setting changes it", () => {
  const inputs = one(base, "aws:apigateway/restApi:RestApi").inputs;
  const { tags: _t, ...shape } = inputs;
  const h = deploymentHash(shape);
  expect(Object.keys(shape).sort()).toEqual(["body", "description", "endpointConfiguration", "minimumCompressionSize", "name", "putRestApiMode"]);
  const changed: Record<string, unknown> = {
    body: shape.body.replace('"authorizerResultTtlInSeconds":300', '"authorizerResultTtlInSeconds":0'),
    description: "other",
    endpointConfiguration: { types: "EDGE" },
    name: "other",
    putRestApiMode: "merge",
    minimumCompressionSize: "2048",
    // A setting someone adds later (binary types) is hashed too.
    binaryMediaTypes: ["application/octet-stream"],
  };
  for (const [k, v] of Object.entries(changed)) expect({ setting: k, same: deploymentHash({ ...shape, [k]: v }) === h }).toEqual({ setting: k, same: false });
  // Key order is not a change.
  expect(deploymentHash(Object.fromEntries(Object.entries(shape).reverse()))).toBe(h);
});

test("the document refuses a route listed twice and a token source that is not a header", () => {
  const uri = () => "arn:aws:apigateway:us-west-2:lambda:path/fn";
  const authorizer = { identitySource: "method.request.header.Authorization", authorizerResultTtlInSeconds: 300, uri: "arn:auth" };
  expect(() => apiDefinition({ title: "t", routes: [BASE[0], BASE[0]], authorizer, integrationUri: uri })).toThrow(/listed twice/);
  expect(() =>
    apiDefinition({ title: "t", routes: BASE, authorizer: { ...authorizer, identitySource: "method.request.querystring.token" }, integrationUri: uri }),
  ).toThrow(/request header/);
});
