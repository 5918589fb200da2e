// Prod and dev side by side: a development deployment must never be able to
// address production resources, so no physical name may be shared.
import { readStackSettings } from "../../lib/stack-config";
import { runStack, type Recorded, type StackRun } from "./harness";

/** Inputs that become an account-wide (or region-wide) physical name. */
const NAME_INPUTS = ["name", "identityPoolName", "dashboardName"];

/**
 * The region's API Gateway CloudWatch role setting: one stack per account owns it
 * (haumana:manageApiGatewayAccount, prod), so only that stack registers these.
 */
function accountLevel(r: Recorded): boolean {
  return r.type === "aws:apigateway/account:Account" || /-apigateway-cloudwatch-role$/.test(r.inputs.name ?? r.inputs.role ?? "");
}

function physicalNames(run: StackRun): string[] {
  return run.resources
    .filter((r) => r.type.startsWith("aws:") && !accountLevel(r))
    .flatMap((r) => NAME_INPUTS.map((k) => r.inputs[k]).filter((v): v is string => typeof v === "string"));
}

describe("prod and dev stacks", () => {
  let prod: StackRun;
  let dev: StackRun;
  beforeAll(async () => {
    prod = await runStack("prod", { stubCode: true });
    dev = await runStack("dev", { stubCode: true });
  });

  test("both register the same kinds of resources, but only prod sets the account-level API Gateway role", () => {
    const count = (run: StackRun) => run.resources.filter((r) => !accountLevel(r)).map((r) => r.type).sort();
    expect(count(dev)).toEqual(count(prod));
    expect(prod.resources.filter(accountLevel).map((r) => r.type).sort()).toEqual([
      "aws:apigateway/account:Account",
      "aws:iam/role:Role",
      "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    ]);
    expect(dev.resources.filter(accountLevel)).toEqual([]);
    expect(prod.stack).toBe("prod");
    expect(dev.stack).toBe("dev");
  });

  test("every explicitly named resource is named, and no physical name is shared", () => {
    const p = physicalNames(prod);
    const d = physicalNames(dev);
    // tables, functions, log groups, roles, pools, API
    expect(p.length).toBeGreaterThanOrEqual(2 + 4 * 3 + 1 + 2 + 1);
    expect(p.length).toBe(d.length);
    expect(new Set(p).size).toBe(p.length);
    expect(d.filter((n) => p.includes(n))).toEqual([]);
    // Alarm and dashboard names start with a capital: "Haumana-dev-...".
    for (const n of d) expect(n).toMatch(/haumana[-_]dev/i);
  });

  test("each stack carries its own Environment tag", () => {
    const env = (run: StackRun) => new Set(run.resources.filter((r) => r.inputs.tags).map((r) => r.inputs.tags.Environment));
    expect([...env(prod)]).toEqual([readStackSettings("prod").environment]);
    expect([...env(dev)]).toEqual([readStackSettings("dev").environment]);
  });

  test("the environment variables name only the stack's own resources", () => {
    const vars = (run: StackRun) =>
      run.ofType("aws:lambda/function:Function").flatMap((f) => Object.values(f.inputs.environment.variables as Record<string, string>));
    const prodNames = new Set(physicalNames(prod));
    for (const v of vars(dev)) expect(prodNames.has(v)).toBe(false);
  });
});
