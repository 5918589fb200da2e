// The cutover under mocks: prod takes over the live REST API (import) and must then
// serve the routes the shipped app calls at the same URL; the optional custom
// domain. The general stack rules (rules.ts) already hold prod and dev to their
// import ids and names; this adds what depends on config the committed files lack.
import { LIVE_API } from "../../lib/names";
import { APP_ROUTES, routeKey, unservedAppRoutes } from "../../lib/routes";
import { readStackSettings } from "../../lib/stack-config";
import { runStack, type StackRun } from "./harness";
import { openApiRoutes } from "./rules";

const T = {
  restApi: "aws:apigateway/restApi:RestApi",
  stage: "aws:apigateway/stage:Stage",
  cert: "aws:acm/certificate:Certificate",
  validation: "aws:acm/certificateValidation:CertificateValidation",
  domain: "aws:apigateway/domainName:DomainName",
  mapping: "aws:apigateway/basePathMapping:BasePathMapping",
  record: "aws:route53/record:Record",
};
const one = (run: StackRun, type: string) => {
  const rs = run.ofType(type);
  expect(rs).toHaveLength(1);
  return rs[0];
};


describe("prod adopts the live API", () => {
  let prod: StackRun;
  beforeAll(async () => {
    prod = await runStack("prod", { stubCode: true });
  });

  test("the committed prod config adopts vageu42qbg; dev does not", () => {
    expect(readStackSettings("prod").adoptRestApiId).toBe(LIVE_API.id);
    expect(readStackSettings("dev").adoptRestApiId).toBeUndefined();
  });

  test("the adopted API serves every route the app calls, each demanding a token exactly where the live API does", () => {
    const api = one(prod, T.restApi);
    expect(api.importId).toBe(LIVE_API.id);
    const served = openApiRoutes(api.inputs.body).map((r) => r.key);
    expect(APP_ROUTES.map(routeKey).filter((k) => !served.includes(k))).toEqual([]);
    expect(unservedAppRoutes()).toEqual([]);
    // Where the app sends no token, the route demands none, except where the live API
    // guards it anyway (consent-status: the app gets the 401 it gets today).
    for (const app of APP_ROUTES) {
      const op = openApiRoutes(api.inputs.body).find((r) => r.key === routeKey(app))!;
      expect({ route: op.key, demandsToken: !!op.operation.security }).toEqual({ route: op.key, demandsToken: app.sendsToken || !!app.guardedLive });
    }
    expect(APP_ROUTES.filter((a) => a.guardedLive).map(routeKey)).toEqual(["GET /users/{userId}/consent-status"]);
  });

  test("the stage is imported by the id Pulumi uses for stages (REST-API-ID/STAGE-NAME) and keeps the stage name the app calls", () => {
    const stage = one(prod, T.stage);
    expect(stage.importId).toBe(`${LIVE_API.id}/${LIVE_API.stage}`);
    // restApi and stageName force a replacement, which an import cannot do: both must be the live ones.
    expect(stage.inputs).toMatchObject({ restApi: LIVE_API.id, stageName: LIVE_API.stage });
  });
});

describe("custom domain", () => {
  test("absent by default: no certificate, domain or mapping, no domain outputs", async () => {
    const dev = await runStack("dev", { stubCode: true });
    for (const t of [T.cert, T.validation, T.domain, T.mapping, T.record]) expect(dev.ofType(t)).toEqual([]);
    expect(dev.outputs.apiDomainUrl).toBeUndefined();
  });

  test("with a Route 53 zone: certificate validated through the zone, regional domain, stage at the root, alias record", async () => {
    const run = await runStack("prod", {
      stubCode: true,
      config: { "haumana:domainName": "api.haumana.example", "haumana:domainZoneId": "Z0123456789ABCDEFGHIJ" },
    });
    const cert = one(run, T.cert);
    expect(cert.inputs).toMatchObject({ domainName: "api.haumana.example", validationMethod: "DNS" });
    const records = run.ofType(T.record);
    const validationRecord = records.find((r) => r.inputs.type === "CNAME")!;
    expect(validationRecord.inputs).toMatchObject({
      zoneId: "Z0123456789ABCDEFGHIJ",
      name: cert.state.domainValidationOptions[0].resourceRecordName,
      records: [cert.state.domainValidationOptions[0].resourceRecordValue],
    });
    const validation = one(run, T.validation);
    expect(validation.inputs).toMatchObject({ certificateArn: cert.state.arn, validationRecordFqdns: [validationRecord.state.fqdn] });
    const domain = one(run, T.domain);
    expect(domain.inputs).toMatchObject({
      domainName: "api.haumana.example",
      regionalCertificateArn: cert.state.arn,
      endpointConfiguration: { types: "REGIONAL" },
      securityPolicy: "TLS_1_2",
    });
    expect(domain.dependencies).toContain(validation.urn);
    const mapping = one(run, T.mapping);
    expect(mapping.inputs).toEqual(expect.objectContaining({ domainName: "api.haumana.example", restApi: LIVE_API.id, stageName: "prod" }));
    expect(mapping.inputs.basePath ?? "").toBe("");
    const alias = records.find((r) => r.inputs.type === "A")!;
    expect(alias.inputs).toMatchObject({
      zoneId: "Z0123456789ABCDEFGHIJ",
      name: "api.haumana.example",
      aliases: [{ name: domain.state.regionalDomainName, zoneId: domain.state.regionalZoneId, evaluateTargetHealth: false }],
    });
    expect(run.outputs).toMatchObject({ apiDomainUrl: "https://api.haumana.example", apiDomainTarget: domain.state.regionalDomainName });
    // The execute-api URL the installed apps use does not change.
    expect(run.outputs.apiUrl).toBe(`https://${LIVE_API.id}.execute-api.${LIVE_API.region}.amazonaws.com/prod`);
    for (const r of [cert, domain]) expect(r.inputs.tags).toMatchObject({ Project: "Haumana" });
  });

  test("without a zone: certificate and domain only; the DNS records are left to the operator", async () => {
    const run = await runStack("dev", { stubCode: true, config: { "haumana:domainName": "dev-api.haumana.example" } });
    expect(run.ofType(T.record)).toEqual([]);
    expect(one(run, T.validation).inputs.validationRecordFqdns).toBeUndefined();
    expect(one(run, T.mapping).inputs).toMatchObject({ domainName: "dev-api.haumana.example", stageName: "prod" });
    expect(run.outputs.apiDomainTarget).toBe(one(run, T.domain).state.regionalDomainName);
  });

  test("bad values are refused before anything is registered", async () => {
    await expect(runStack("dev", { stubCode: true, config: { "haumana:domainName": "Not A Domain" } })).rejects.toThrow(/domainName/);
    await expect(runStack("dev", { stubCode: true, config: { "haumana:domainZoneId": "Z0123456789" } })).rejects.toThrow(/needs haumana:domainName/);
    await expect(runStack("dev", { stubCode: true, config: { "haumana:adoptRestApiId": "https://x" } })).rejects.toThrow(/adoptRestApiId/);
  });
});
