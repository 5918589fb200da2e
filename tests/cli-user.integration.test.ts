// `haumana-ops user show|export|delete` as processes: the built binary against
// moto's Cognito (AWS_ENDPOINT_URL) and DynamoDB Local (AWS_ENDPOINT_URL_DYNAMODB),
// on the dev stack's tables and user pool, named as the program names them. Users
// are made through the real sync routes. Checked: what each prints (stdout, pure
// JSON under --json), exit codes, --dry-run changes nothing, no terminal and no
// --yes changes nothing (exit 2), a deletion removes the user's items and Cognito
// user and leaves the other user's byte for byte, a deletion cut short is completed
// by the command, and the export is the API's document.
import {
  AdminCreateUserCommand,
  AdminGetUserCommand,
  CognitoIdentityProviderClient,
  CreateUserPoolCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { deleteAccountData } from "../functions/core/account";
import { buildExport } from "../functions/core/export";
import { setLogSink } from "../functions/core/log";
import { piecesRoute, sessionsRoute } from "../functions/core/routes";
import { Store } from "../functions/core/store";
import { resourceNames } from "../lib/names";
import { readStackSettings } from "../lib/stack-config";
import { ensureTables } from "../local/server";
import { buildCli, runInTerminal } from "./helpers/cli";
import { runCli } from "./helpers/cli-process";
import { localEndpoint } from "./helpers/dynamo";
import { Device } from "./helpers/device";
import { withFaults } from "./helpers/faults";
import { MotoServer, startMoto } from "./helpers/moto";

jest.setTimeout(120_000);

const STACK = "dev";
const names = resourceNames(readStackSettings(STACK).namePrefix);
const RUN = randomUUID().slice(0, 8);

let moto: MotoServer;
let home: string;
let cognito: CognitoIdentityProviderClient;
let poolId: string;
let doc: DynamoDBDocumentClient;
let store: Store;
let restoreLogs: ReturnType<typeof setLogSink>;

const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  runCli([...args, "--stack", STACK], { home, endpoint: moto.endpoint, env: { AWS_ENDPOINT_URL_DYNAMODB: localEndpoint(), ...env } });

beforeAll(async () => {
  buildCli();
  restoreLogs = setLogSink(() => undefined);
  home = fs.mkdtempSync(path.join(os.tmpdir(), "haumana-ops-user-"));
  moto = await startMoto();
  cognito = new CognitoIdentityProviderClient(moto.clientConfig);
  poolId = (await cognito.send(new CreateUserPoolCommand({ PoolName: names.userPool }))).UserPool!.Id!;
  // The dev stack's tables on the shared DynamoDB Local; users are unique to this run.
  const client = new DynamoDBClient({ endpoint: localEndpoint(), region: "us-west-2", credentials: { accessKeyId: "t", secretAccessKey: "t" } });
  await ensureTables(client, names.prefix);
  doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  store = new Store({ doc, piecesTable: names.piecesTable, sessionsTable: names.sessionsTable });
});
afterAll(async () => {
  cognito?.destroy();
  await moto?.stop();
  setLogSink(restoreLogs);
  if (home) fs.rmSync(home, { recursive: true, force: true });
});

const routes = () => ({ "/pieces": piecesRoute(store), "/sessions": sessionsRoute(store) });

/** A user made as the app makes one: signed in (Cognito user), pieces and sessions synced, one piece deleted. */
async function makeUser(label: string, pieces = 6) {
  const sub = `${label}-${RUN}`;
  const email = `${sub}@example.com`;
  await cognito.send(
    new AdminCreateUserCommand({ UserPoolId: poolId, Username: `google_${sub}`, MessageAction: "SUPPRESS", UserAttributes: [{ Name: "email", Value: email }, { Name: "name", Value: label }] }),
  );
  const r = routes();
  const call = async (route: "/pieces" | "/sessions", body: unknown) => {
    const res = await r[route]({ body: JSON.stringify(body), isBase64Encoded: false, requestContext: { authorizer: { userId: sub }, requestId: "t" } });
    return { status: res.statusCode, body: JSON.parse(res.body) };
  };
  const a = new Device("a", sub, call);
  for (let i = 0; i < pieces; i++) a.createPiece({ title: `${label} ${i}` });
  const ids = [...a.pieces.keys()];
  a.recordSession(ids[0]);
  a.recordSession(ids[1]);
  await a.syncNow();
  const gone = a.pieces.get(ids[pieces - 1])!;
  await call("/pieces", { operation: "sync", protocol: 2, pieces: [], deletedPieces: [{ pieceId: gone.pieceId, version: gone.version }] });
  return { sub, email };
}

async function itemsOf(sub: string): Promise<string[]> {
  const out: string[] = [];
  for (const TableName of [names.piecesTable, names.sessionsTable]) {
    const r = await doc.send(new QueryCommand({ TableName, KeyConditionExpression: "userId = :u", ExpressionAttributeValues: { ":u": sub }, ConsistentRead: true }));
    out.push(...(r.Items ?? []).map((i) => JSON.stringify(i, Object.keys(i).sort())));
  }
  return out.sort();
}
const cognitoUserExists = (sub: string) =>
  cognito.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: `google_${sub}` })).then(
    () => true,
    (e) => (e.name === "UserNotFoundException" ? false : Promise.reject(e)),
  );

test("user show: the Cognito user and the counts, by email or sub; --json is pure JSON; nothing found exits 1", async () => {
  const { sub, email } = await makeUser("show");
  const text = await cli(["user", "show", "--email", email]);
  expect(text.code).toBe(0);
  expect(text.stdout).toContain(`User ${sub} of stack ${STACK} (us-west-2, pool ${names.userPool})`);
  expect(text.stdout).toMatch(new RegExp(`Cognito user\\s+google_${sub} \\(${email}, show\\)`));
  expect(text.stdout).toMatch(/pieces\s+5 \(and 1 deleted piece kept as tombstones for other devices\)/);
  expect(text.stdout).toMatch(/sessions\s+2\n/);
  const json = await cli(["user", "show", "--sub", sub, "--json"]);
  expect(json.code).toBe(0);
  expect(JSON.parse(json.stdout)).toEqual({
    stack: STACK,
    region: "us-west-2",
    userPool: { name: names.userPool, id: poolId },
    userId: sub,
    cognitoUser: expect.objectContaining({ username: `google_${sub}`, email, name: "show", enabled: true }),
    data: { pieces: 5, tombstones: 1, sessions: 2, syncState: true },
    deletedAt: null,
  });
  const nobody = await cli(["user", "show", "--sub", `nobody-${RUN}`, "--json"]);
  expect(nobody.code).toBe(1);
  expect(JSON.parse(nobody.stdout)).toMatchObject({ cognitoUser: null, data: { pieces: 0, tombstones: 0, sessions: 0, syncState: false } });
  const noEmail = await cli(["user", "show", "--email", `nobody-${RUN}@example.com`]);
  expect(noEmail).toMatchObject({ code: 1, stdout: "" });
  expect(noEmail.stderr).toContain(`No user with the email nobody-${RUN}@example.com in ${names.userPool}`);
});

test("usage: exactly one of --email and --sub (exit 2); an email shared by two users names both (exit 2)", async () => {
  for (const args of [["user", "show"], ["user", "delete", "--email", "a@example.com", "--sub", "1"], ["user", "export", "--sub", "not a sub"]]) {
    const r = await cli(args);
    expect({ args, code: r.code, stdout: r.stdout }).toEqual({ args, code: 2, stdout: "" });
  }
  const shared = `shared-${RUN}@example.com`;
  for (const u of ["x", "y"]) {
    await cognito.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: `google_${u}-${RUN}`, MessageAction: "SUPPRESS", UserAttributes: [{ Name: "email", Value: shared }] }));
  }
  const r = await cli(["user", "delete", "--email", shared, "--yes"]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain(`2 users have the email ${shared}: google_x-${RUN}, google_y-${RUN}. Pick one with --sub.`);
  expect(r.stderr).toMatch(/For example: haumana-ops user show --sub [xy]-\S+ --stack dev\n/);
  expect(await cognitoUserExists(`x-${RUN}`)).toBe(true);
});

test("user export: the API's document on stdout, or written to --out (mode 600) with a summary", async () => {
  const { sub, email } = await makeUser("export");
  const r = await cli(["user", "export", "--email", email]);
  expect(r.code).toBe(0);
  const got = JSON.parse(r.stdout);
  const api = JSON.parse((await buildExport(store, sub)).json);
  expect({ ...got, exportedAt: "" }).toEqual({ ...api, exportedAt: "" });
  expect(got.pieces).toHaveLength(5);
  expect(got.sessions).toHaveLength(2);
  expect(r.stderr).toContain(`5 pieces and 2 sessions of user ${sub}`);

  const file = path.join(home, `export-${RUN}.json`);
  const w = await cli(["user", "export", "--sub", sub, "--out", file, "--json"]);
  expect(w.code).toBe(0);
  expect(JSON.parse(w.stdout)).toEqual({ stack: STACK, userId: sub, file, bytes: fs.statSync(file).size, pieces: 5, sessions: 2, exportedAt: expect.any(String) });
  expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  expect({ ...JSON.parse(fs.readFileSync(file, "utf8")), exportedAt: "" }).toEqual({ ...api, exportedAt: "" });
  const text = await cli(["user", "export", "--sub", sub, "--out", file]);
  expect(text.stdout).toMatch(new RegExp(`^Wrote ${file}: 5 pieces and 2 sessions of user ${sub} \\(\\d+\\.\\d KB, exported .+\\)\\.\\n$`));

  const nothing = await cli(["user", "export", "--sub", `nobody-${RUN}`]);
  expect(nothing).toMatchObject({ code: 1, stdout: "" });
  expect(nothing.stderr).toContain("Nothing to export");
});

test("user delete: --dry-run and no terminal without --yes change nothing; --yes deletes the user alone; a second run has nothing to delete", async () => {
  const leaving = await makeUser("leaving");
  const staying = await makeUser("staying");
  const before = { leaving: await itemsOf(leaving.sub), staying: await itemsOf(staying.sub) };
  expect(before.leaving.length).toBe(6 + 1 + 2);

  const dry = await cli(["user", "delete", "--email", leaving.email, "--dry-run"]);
  expect(dry.code).toBe(0);
  expect(dry.stdout).toContain(`To delete: user ${leaving.sub} of stack ${STACK}`);
  expect(dry.stdout).toMatch(/pieces\s+5 \(and 1 deleted piece kept as tombstones/);
  expect(dry.stdout).toContain("--dry-run: nothing was deleted.");
  const dryJson = await cli(["user", "delete", "--sub", leaving.sub, "--dry-run", "--json"]);
  expect(JSON.parse(dryJson.stdout)).toMatchObject({ dryRun: true, deleted: null, plan: { nothingToDelete: false, data: { pieces: 5, tombstones: 1, sessions: 2, syncState: true } } });

  const refused = await cli(["user", "delete", "--sub", leaving.sub]);
  expect(refused).toMatchObject({ code: 2, stdout: "" });
  expect(refused.stderr).toContain(`To delete: user ${leaving.sub}`);
  expect(refused.stderr).toContain(`To go ahead, run: haumana-ops user delete --sub ${leaving.sub} --stack ${STACK} --yes`);
  expect(await itemsOf(leaving.sub)).toEqual(before.leaving);
  expect(await cognitoUserExists(leaving.sub)).toBe(true);

  const done = await cli(["user", "delete", "--sub", leaving.sub, "--yes", "--json"]);
  expect(done.code).toBe(0);
  expect(JSON.parse(done.stdout)).toMatchObject({
    userId: leaving.sub,
    dryRun: false,
    deleted: { pieces: 6, sessions: 2, cognitoUser: "deleted", deletedAt: expect.stringMatching(/\.\d{3}Z$/) },
  });
  expect(await itemsOf(leaving.sub)).toEqual([]);
  expect(await cognitoUserExists(leaving.sub)).toBe(false);
  expect(await itemsOf(staying.sub)).toEqual(before.staying);
  expect(await cognitoUserExists(staying.sub)).toBe(true);

  const again = await cli(["user", "delete", "--sub", leaving.sub, "--yes"]);
  expect(again.code).toBe(0);
  expect(again.stdout).toMatch(new RegExp(`^Nothing to delete for user ${leaving.sub}: no Cognito user and no data \\(deleted \\S+Z\\)\\.\\n$`));
  const shown = await cli(["user", "show", "--sub", leaving.sub]);
  expect(shown.code).toBe(0);
  expect(shown.stdout).toMatch(/deleted before\s+\S+Z \(what the account created since then is kept\)/);
});

test("a deletion cut short (by the app's request failing half-way) is completed by user delete", async () => {
  const { sub } = await makeUser("halfway", 60);
  const faults = withFaults(doc);
  let writes = 0;
  faults.decide = (name) => (name === "BatchWriteCommand" && ++writes > 1 ? "fail" : undefined);
  const flaky = new Store({ doc: faults.doc, piecesTable: names.piecesTable, sessionsTable: names.sessionsTable, sleep: async () => undefined, maxAttempts: 2 });
  await expect(deleteAccountData(flaky, sub)).rejects.toThrow();
  const left = (await itemsOf(sub)).length;
  expect(left).toBeGreaterThan(0);
  const r = await cli(["user", "delete", "--sub", sub, "--yes", "--json"]);
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout).deleted).toMatchObject({ cognitoUser: "deleted" });
  expect(await itemsOf(sub)).toEqual([]);
});

test("on a terminal it asks: no keeps everything (exit 1), yes deletes", async () => {
  const { sub } = await makeUser("asked");
  const env = {
    ...(await import("./helpers/cli-process")).cliEnv({ home, endpoint: moto.endpoint, env: { AWS_ENDPOINT_URL_DYNAMODB: localEndpoint() } }),
  };
  const no = await runInTerminal(["user", "delete", "--sub", sub, "--stack", STACK], { cwd: home, env, steps: [{ when: /Delete user .* and all their data/, send: "n\r" }] });
  expect(no.code).toBe(1);
  expect(no.screen.join("\n")).toContain("Cancelled: nothing was changed.");
  expect((await itemsOf(sub)).length).toBeGreaterThan(0);
  const yes = await runInTerminal(["user", "delete", "--sub", sub, "--stack", STACK], { cwd: home, env, steps: [{ when: /Delete user .* and all their data/, send: "y\r" }] });
  expect(yes.code).toBe(0);
  expect(yes.screen.join("\n")).toContain(`Deleted user ${sub}: 6 pieces (tombstones included), 2 sessions, the sync state and the Cognito user.`);
  expect(await itemsOf(sub)).toEqual([]);
});

test("failures say what failed and where: no such pool (exit 1), DynamoDB unreachable (exit 1), no credentials (exit 3)", async () => {
  const noPool = await runCli(["user", "show", "--sub", "x", "--stack", "prod"], { home, endpoint: moto.endpoint });
  expect(noPool.code).toBe(1);
  expect(noPool.stderr).toContain(`No Cognito user pool named ${resourceNames(readStackSettings("prod").namePrefix).userPool} in us-west-2`);
  const { sub } = await makeUser("unreachable");
  const down = await cli(["user", "show", "--sub", sub], { AWS_ENDPOINT_URL_DYNAMODB: "http://127.0.0.1:1" });
  expect(down.code).toBe(1);
  expect(down.stderr).toMatch(/Query \(DynamoDB at http:\/\/127\.0\.0\.1:1\/\) could not be reached: nothing is listening there/);
  const noCreds = await runCli(["user", "show", "--sub", sub, "--stack", STACK], { home });
  expect(noCreds.code).toBe(3);
});
