// How the built haumana-ops talks to AWS, as a process against moto_server: no SDK
// warning on stderr from any command (the runs inherit no switch that hides it),
// failures that are not AWS's own (no network, something else answering) said in
// words with what was called and where, --debug, --profile and --region, and
// FORCE_COLOR into a pipe.
import * as fs from "node:fs";
import * as path from "node:path";
import { EXIT } from "../cli/exit-codes";
import { MOTO_ACCOUNT, TEST_KEYS, useMotoCli } from "./helpers/cli";

const cli = useMotoCli();
const run = cli.run;
const NODE_WARNING = /NodeVersionSupportWarning|\(node:\d+\) Warning|--trace-warnings/;

describe("no SDK or Node warning on stderr, whatever the command and however it ends", () => {
  test("the runs do not carry the SDK's own switch", () => {
    expect(cli.env({ aws: true }).AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED).toBeUndefined();
  });

  test.each([
    [["budget", "show"], EXIT.FAILURE],
    [["budget", "create", "--skip-tag-check", "--dry-run"], EXIT.OK],
    [["budget", "create", "--skip-tag-check"], EXIT.USAGE], // no terminal, no --yes
    [["budget", "create", "--limit", "0.001", "--skip-tag-check"], EXIT.USAGE],
    [["cost", "report", "--month", "2026-10"], EXIT.OK],
    [["cost", "report", "--month", "2999-01"], EXIT.USAGE], // usage error after the command was chosen
    [["tags", "check"], EXIT.FAILURE], // moto lacks ListCostAllocationTags
    [["budget", "show", "--bogus"], EXIT.USAGE],
  ])("%j (exit %s)", async (args, code) => {
    const r = await run(args as string[], { aws: true });
    expect(r.code).toBe(code);
    expect(r.stderr).not.toMatch(NODE_WARNING);
  });

  test("also without credentials (the SDK is loaded, the request never leaves)", async () => {
    const r = await run(["budget", "show"]);
    expect(r.code).toBe(EXIT.CREDENTIALS);
    expect(r.stderr).not.toMatch(NODE_WARNING);
  });
});

describe("failures that are not AWS's say what was called, where, and what to check", () => {
  test("nothing listening at AWS_ENDPOINT_URL", async () => {
    const r = await run(["budget", "show"], { aws: true, env: { AWS_ENDPOINT_URL: "http://127.0.0.1:9" } });
    expect(r.code).toBe(EXIT.FAILURE);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("error: GetCallerIdentity (STS at http://127.0.0.1:9/) could not be reached: nothing is listening there (connection refused)");
    expect(r.stderr).toContain("AWS_ENDPOINT_URL is set to http://127.0.0.1:9: is that server running and does it answer this API?");
    expect(r.stderr).toContain("To see each request and response: haumana-ops budget show --debug");
  });

  test("a host name that does not resolve (DNS fails for every host here)", async () => {
    const hook = path.join(cli.tmp, "no-dns.js");
    fs.writeFileSync(
      hook,
      `const dns = require("dns");
       dns.lookup = (host, opts, cb) => { cb = typeof opts === "function" ? opts : cb;
         process.nextTick(cb, Object.assign(new Error("getaddrinfo ENOTFOUND " + host), { code: "ENOTFOUND", errno: -3008, syscall: "getaddrinfo", hostname: host })); };`,
    );
    const r = await run(["budget", "show"], { env: { ...TEST_KEYS, NODE_OPTIONS: `--require ${hook}` } });
    expect(r.code).toBe(EXIT.FAILURE);
    expect(r.stderr).toContain(
      "error: GetCallerIdentity (STS at https://sts.us-west-2.amazonaws.com/) could not be reached: the host name does not resolve (DNS) (ENOTFOUND: getaddrinfo ENOTFOUND sts.us-west-2.amazonaws.com).",
    );
    expect(r.stderr).toContain("Check the network connection (and HTTPS_PROXY if you use a proxy).");
  });

  test("something that is not AWS answers (moto has no ListCostAllocationTags: an HTML error page)", async () => {
    const r = await run(["tags", "check"], { aws: true });
    expect(r.code).toBe(EXIT.FAILURE);
    expect(r.stderr).not.toMatch(/SyntaxError|Unexpected token|Deserialization error/);
    expect(r.stderr).toMatch(
      new RegExp(`error: ListCostAllocationTags \\(Cost Explorer at ${cli.proxy.endpoint}/\\) answered with HTTP 500 \\(text/html\\) that is not an AWS response: "500 Internal Server Error`),
    );
    expect(r.stderr).toContain("To see each request and response: haumana-ops tags check --debug");
  });
});

describe("--debug", () => {
  test("shows each request and response on stderr, never the credentials; stdout is unchanged", async () => {
    expect((await run(["budget", "create", "--skip-tag-check", "--yes"], { aws: true })).code).toBe(0);
    const plain = await run(["budget", "show"], { aws: true });
    const debug = await run(["budget", "show", "--debug"], { aws: true });
    expect(debug.code).toBe(0);
    expect(debug.stdout).toBe(plain.stdout);
    const lines = debug.stderr.split("\n");
    expect(lines).toContain(`debug: → #1 STS GetCallerIdentity: POST ${cli.proxy.endpoint}/`);
    expect(lines).toContain("debug:   Action=GetCallerIdentity&Version=2011-06-15");
    expect(lines.some((l) => l.startsWith("debug: ← #1 STS GetCallerIdentity: 200 text/xml ("))).toBe(true);
    expect(debug.stderr).toContain(`<Account>${MOTO_ACCOUNT}</Account>`);
    expect(lines.filter((l) => /^debug: → #\d+ Budgets DescribeSubscribersForNotification: POST /.test(l))).toHaveLength(3);
    expect(debug.stderr).toContain('debug:   {"Subscribers":[{"SubscriptionType":"EMAIL","Address":"david.herman@gmail.com"}]}');
    expect(debug.stderr).not.toContain(TEST_KEYS.AWS_SECRET_ACCESS_KEY);
    expect(debug.stderr).not.toMatch(/AWS4-HMAC-SHA256|Signature=/);
  });

  test("under --json, stdout stays pure JSON", async () => {
    const r = await run(["budget", "show", "--json", "--debug"], { aws: true });
    expect(JSON.parse(r.stdout)).toMatchObject({ exists: false });
    expect(r.stderr).toContain("debug: → #1 STS GetCallerIdentity");
  });
});

describe("--profile and --region", () => {
  const signedBy = (operation: string) =>
    cli.proxy.requests.filter((q) => q.operation === operation).map((q) => /Credential=([^/]+)\/\d+\/([^/]+)\/([^/]+)\//.exec(String(q.headers.authorization))!.slice(1));

  beforeAll(() => {
    fs.mkdirSync(path.join(cli.tmp, ".aws"), { recursive: true });
    fs.writeFileSync(path.join(cli.tmp, ".aws/credentials"), "[ops]\naws_access_key_id = AKIDFROMPROFILE\naws_secret_access_key = profile-secret\n");
    fs.writeFileSync(path.join(cli.tmp, ".aws/config"), "[profile ops]\nregion = ap-southeast-2\n");
  });
  const profileEnv = () => ({
    AWS_CONFIG_FILE: path.join(cli.tmp, ".aws/config"),
    AWS_SHARED_CREDENTIALS_FILE: path.join(cli.tmp, ".aws/credentials"),
    AWS_ACCESS_KEY_ID: undefined,
    AWS_SECRET_ACCESS_KEY: undefined,
  });

  test("--profile signs every request with that profile's keys; STS in the stack's region, Budgets in us-east-1", async () => {
    const r = await run(["budget", "show", "--profile", "ops"], { aws: true, env: profileEnv() });
    expect(r.code).toBe(EXIT.FAILURE); // no budget yet
    expect(signedBy("GetCallerIdentity")).toEqual([["AKIDFROMPROFILE", "us-west-2", "sts"]]);
    expect(signedBy("DescribeBudget")).toEqual([["AKIDFROMPROFILE", "us-east-1", "budgets"]]);
  });

  test("--profile wins over keys in the environment, before or after the command", async () => {
    const r = await run(["--profile", "ops", "budget", "show"], { aws: true, env: { ...profileEnv(), ...TEST_KEYS } });
    expect(r.code).toBe(EXIT.FAILURE);
    expect(signedBy("GetCallerIdentity")).toEqual([["AKIDFROMPROFILE", "us-west-2", "sts"]]);
  });

  test("a profile that does not exist: credentials error naming it, exit 3", async () => {
    const r = await run(["budget", "show", "--profile", "nosuch"], { aws: true, env: profileEnv() });
    expect(r.code).toBe(EXIT.CREDENTIALS);
    expect(r.stderr).toContain("No usable AWS credentials for GetCallerIdentity");
    expect(r.stderr).toContain('The profile in use is "nosuch": sign in with `aws sso login --profile nosuch`');
    expect(cli.proxy.requests).toEqual([]);
  });

  test("--region moves STS off the stack's region; Budgets stays in us-east-1; hints carry both flags", async () => {
    const r = await run(["budget", "show", "--region", "eu-west-1", "--profile", "ops"], { aws: true, env: profileEnv() });
    expect(r.code).toBe(EXIT.FAILURE);
    expect(signedBy("GetCallerIdentity")).toEqual([["AKIDFROMPROFILE", "eu-west-1", "sts"]]);
    expect(signedBy("DescribeBudget")).toEqual([["AKIDFROMPROFILE", "us-east-1", "budgets"]]);
    expect(r.stdout).toContain("No budget yet. Create it: haumana-ops budget create --profile ops --region eu-west-1");
  });
});

describe("colour follows FORCE_COLOR, NO_COLOR and the terminal", () => {
  test("FORCE_COLOR=1 colours a pipe; FORCE_COLOR=0 and no terminal do not", async () => {
    await run(["budget", "create", "--skip-tag-check", "--yes"], { aws: true });
    const forced = await run(["budget", "show"], { aws: true, env: { FORCE_COLOR: "1" } });
    expect(forced.stdout).toContain("\x1b[32m✓\x1b[39m");
    const off = await run(["budget", "show"], { aws: true, env: { FORCE_COLOR: "0" } });
    expect(off.stdout).not.toMatch(/\x1b\[/);
    const piped = await run(["budget", "show"], { aws: true });
    expect(piped.stdout).not.toMatch(/\x1b\[/);
    // FORCE_COLOR and NO_COLOR together: FORCE_COLOR wins, and Node is not asked to warn about it.
    const both = await run(["budget", "show"], { aws: true, env: { FORCE_COLOR: "1", NO_COLOR: "1" } });
    expect(both.stdout).toContain("\x1b[32m✓\x1b[39m");
    expect(both.stderr).not.toMatch(NODE_WARNING);
  });
});
