// Runs the Pulumi program (infra/index.ts) under pulumi.runtime.setMocks for one
// committed stack file and records every resource it registers: its inputs as the
// engine would receive them, plus the options that only the registration request
// carries (protect, parent, provider, dependencies). Not a test file itself.
import * as pulumi from "@pulumi/pulumi";
import { readStackConfigMap, PULUMI_PROJECT } from "../../lib/stack-config";

export const ACCOUNT = "123456789012";

export interface Recorded {
  type: string;
  name: string;
  urn: string;
  id: string;
  inputs: Record<string, any>;
  state: Record<string, any>;
  /** The `import` option: the id of an existing resource to adopt ("" when created). */
  importId: string;
  /** From the RegisterResource request: what `pulumi destroy` would honour. */
  protect: boolean;
  retainOnDelete: boolean;
  parent: string;
  provider: string;
  dependencies: string[];
}

export interface StackRun {
  stack: string;
  region: string;
  resources: Recorded[];
  outputs: Record<string, unknown>;
  ofType(type: string): Recorded[];
  byUrn(urn: string): Recorded | undefined;
}

export interface RunOptions {
  /**
   * Replace the deployed handler code with a stub, so the resource rules do not
   * depend on running functions/ (the packaging test runs the real bundles).
   */
  stubCode?: boolean;
  /** Config keys to set or override (e.g. "haumana:domainName"), on top of the committed stack file. */
  config?: Record<string, unknown>;
  /** Modules the program sees replaced, by path relative to infra/ (e.g. "../lib/routes"). */
  modules?: Record<string, () => unknown>;
}

/** Resolves an output; an `expect` inside an un-awaited apply would check nothing. */
export function resolve<T>(o: pulumi.Input<T>): Promise<T> {
  return new Promise((res) => pulumi.output(o).apply((v) => res(v as T)));
}

/** The committed Pulumi.<stack>.yaml as the engine hands config to a program. */
export function engineConfig(stack: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(readStackConfigMap(stack))) {
    out[k] = typeof v === "string" ? v : JSON.stringify(v);
  }
  return out;
}

function mockState(type: string, name: string, inputs: Record<string, any>, region: string, n: number, importId?: string) {
  const id = importId || `${name}-id`;
  const s: Record<string, any> = { ...inputs, arn: `arn:aws:mock:${region}:${ACCOUNT}:${type}/${name}` };
  switch (type) {
    case "aws:dynamodb/table:Table":
      s.arn = `arn:aws:dynamodb:${region}:${ACCOUNT}:table/${inputs.name}`;
      return { id: inputs.name, state: s };
    case "aws:cloudwatch/logGroup:LogGroup":
      s.arn = `arn:aws:logs:${region}:${ACCOUNT}:log-group:${inputs.name}`;
      return { id: inputs.name, state: s };
    case "aws:iam/role:Role":
      s.arn = `arn:aws:iam::${ACCOUNT}:role/${inputs.name}`;
      return { id: inputs.name, state: s };
    case "aws:cognito/userPool:UserPool": {
      const poolId = `${region}_Mock${n}`;
      s.arn = `arn:aws:cognito-idp:${region}:${ACCOUNT}:userpool/${poolId}`;
      return { id: poolId, state: s };
    }
    case "aws:cognito/identityPool:IdentityPool":
      return { id: `${region}:00000000-0000-0000-0000-00000000000${n % 10}`, state: s };
    case "aws:lambda/function:Function":
      s.arn = `arn:aws:lambda:${region}:${ACCOUNT}:function:${inputs.name}`;
      s.invokeArn = `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${s.arn}/invocations`;
      return { id: inputs.name, state: s };
    case "aws:apigateway/restApi:RestApi": {
      const apiId = importId || `api${n}`;
      s.rootResourceId = `root${n}`;
      s.executionArn = `arn:aws:execute-api:${region}:${ACCOUNT}:${apiId}`;
      return { id: apiId, state: s };
    }
    case "aws:sns/topic:Topic":
      s.arn = `arn:aws:sns:${region}:${ACCOUNT}:${inputs.name}`;
      return { id: s.arn, state: s };
    case "aws:cloudwatch/metricAlarm:MetricAlarm":
      s.arn = `arn:aws:cloudwatch:${region}:${ACCOUNT}:alarm:${inputs.name}`;
      return { id: inputs.name, state: s };
    case "aws:apigateway/stage:Stage":
      s.invokeUrl = `https://${inputs.restApi}.execute-api.${region}.amazonaws.com/${inputs.stageName}`;
      return { id: importId || `ags-${inputs.restApi}-${inputs.stageName}`, state: s };
    case "aws:acm/certificate:Certificate":
      s.arn = `arn:aws:acm:${region}:${ACCOUNT}:certificate/mock-${n}`;
      s.domainValidationOptions = [
        {
          domainName: inputs.domainName,
          resourceRecordName: `_mock${n}.${inputs.domainName}.`,
          resourceRecordType: "CNAME",
          resourceRecordValue: `_mock${n}.acm-validations.aws.`,
        },
      ];
      return { id: s.arn, state: s };
    case "aws:apigateway/domainName:DomainName":
      s.regionalDomainName = `d-mock${n}.execute-api.${region}.amazonaws.com`;
      s.regionalZoneId = "Z2OJLYMUO9EFXC";
      return { id: inputs.domainName, state: s };
    case "aws:s3/bucket:Bucket": {
      // S3 completes a bucketPrefix with a unique suffix.
      s.bucket = inputs.bucket ?? `${inputs.bucketPrefix}mock${n}`;
      s.arn = `arn:aws:s3:::${s.bucket}`;
      return { id: s.bucket, state: s };
    }
    case "aws:route53/record:Record":
      s.fqdn = String(inputs.name).replace(/\.$/, "");
      return { id: `${inputs.zoneId}_${inputs.name}_${inputs.type}`, state: s };
    default:
      return { id, state: s };
  }
}

export async function runStack(stack: string, opts: RunOptions = {}): Promise<StackRun> {
  const config = engineConfig(stack);
  for (const [k, v] of Object.entries(opts.config ?? {})) {
    if (v === undefined) delete config[k];
    else config[k] = typeof v === "string" ? v : JSON.stringify(v);
  }
  const region = config["aws:region"];
  pulumi.runtime.setAllConfig(config);

  const resources: Recorded[] = [];
  const requests = new Map<string, Pick<Recorded, "protect" | "retainOnDelete" | "parent" | "provider" | "dependencies">>();
  let n = 0;
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const { id, state } = mockState(args.type, args.name, args.inputs, region, n++, args.id);
        resources.push({
          type: args.type,
          name: args.name,
          urn: "",
          id,
          inputs: args.inputs,
          state,
          importId: args.id ?? "",
          protect: false,
          retainOnDelete: false,
          parent: "",
          provider: args.provider ?? "",
          dependencies: [],
        });
        return { id, state };
      },
      call(args) {
        throw new Error(`unexpected invoke ${args.token}: the program must not read from AWS`);
      },
    },
    PULUMI_PROJECT,
    stack,
    false,
  );

  // The mock's newResource does not see resource options, so record them from
  // the RegisterResource request itself.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const settings = require("@pulumi/pulumi/runtime/settings");
  const monitor = settings.getMonitor();
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, callback: any) => {
    const key = `${req.getType()}::${req.getName()}`;
    if (requests.has(key)) throw new Error(`harness: two resources registered as ${key}`);
    requests.set(key, {
      protect: !!req.getProtect(),
      retainOnDelete: !!req.getRetainondelete(),
      parent: req.getParent(),
      provider: req.getProvider(),
      dependencies: req.getDependenciesList(),
    });
    return register(req, (err: unknown, resp: any) => {
      const r = resources.find((x) => `${x.type}::${x.name}` === key);
      if (r && resp) r.urn = resp.getUrn();
      callback(err, resp);
    });
  };

  let program: Record<string, unknown> = {};
  jest.isolateModules(() => {
    // jest.doMock resolves paths from this file; the keys are relative to infra/.
    for (const [mod, factory] of Object.entries(opts.modules ?? {})) jest.doMock(`../../infra/${mod}`, factory);
    if (opts.stubCode) {
      jest.doMock("../../infra/package", () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const p = require("@pulumi/pulumi");
        const stub = (name: string) => `exports.handler = async () => ${JSON.stringify(`stub ${name}`)};`;
        return {
          // The grants are still derived from the real code (bundleSources).
          ...jest.requireActual("../../infra/package"),
          bundleFunction: stub,
          functionArchive: (name: string) => new p.asset.AssetArchive({ "index.js": new p.asset.StringAsset(stub(name)) }),
        };
      });
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    program = require("../../infra/index");
  });

  const outputs: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(program)) outputs[k] = await resolve(v as pulumi.Input<unknown>);
  await settings.waitForRPCs();

  for (const r of resources) Object.assign(r, requests.get(`${r.type}::${r.name}`));
  return {
    stack,
    region,
    resources,
    outputs,
    ofType: (type) => resources.filter((r) => r.type === type),
    byUrn: (urn) => resources.find((r) => r.urn === urn),
  };
}
