// Local dev tokens: accepted by a verifier built with the local config (the one
// the local server uses), refused by one configured like production, even when
// production were pointed at the local key set.
import { decodeJwt, decodeProtectedHeader } from "jose";
import * as fs from "node:fs";
import * as http from "node:http";
import { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { createAuthorizer, createTokenVerifier, TokenVerifier } from "../functions/core/verify";
import { GOOGLE_ISSUERS } from "../lib/google";
import { JwksServer, startJwksServer } from "./helpers/jwks";

type DevAuth = typeof import("../local/dev-auth");

const PROD_AUDIENCES = ["123-ios.apps.googleusercontent.com", "123-web.apps.googleusercontent.com"];
const METHOD_ARN = "arn:aws:execute-api:us-west-2:123456789012:abc123defg/prod/POST/pieces";

let dir: string;
let devAuth: DevAuth;
let localServer: http.Server;
let localJwksUrl: string;
let googleLike: JwksServer;
const savedDir = process.env.HAUMANA_LOCAL_DIR;

/** A fresh copy of the module, as another process (the CLI vs the server) would load it. */
function freshDevAuth(): DevAuth {
  let mod!: DevAuth;
  jest.isolateModules(() => {
    mod = require("../local/dev-auth");
  });
  return mod;
}

async function deny(verifier: TokenVerifier, token: string): Promise<string> {
  const err = await verifier.verify(`Bearer ${token}`).then(
    () => undefined,
    (e) => e,
  );
  expect(err?.name).toBe("UnauthorizedError");
  return err.reason;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "haumana-dev-auth-"));
  process.env.HAUMANA_LOCAL_DIR = path.join(dir, ".haumana-local");
  devAuth = freshDevAuth();
  // What the local server does: serve localJwks() on itself.
  localServer = http.createServer(async (_req, res) => {
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(await devAuth.localJwks()));
  });
  await new Promise<void>((r) => localServer.listen(0, "127.0.0.1", r));
  localJwksUrl = `http://127.0.0.1:${(localServer.address() as AddressInfo).port}/.well-known/jwks.json`;
  googleLike = await startJwksServer();
});

afterAll(async () => {
  if (savedDir === undefined) delete process.env.HAUMANA_LOCAL_DIR;
  else process.env.HAUMANA_LOCAL_DIR = savedDir;
  localServer.closeAllConnections();
  await new Promise((r) => localServer.close(r));
  await googleLike.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test("a dev token verifies with the local config", async () => {
  const token = await devAuth.issueDevToken({ sub: "dev-user-1", name: "Dev User" });
  const verifier = createTokenVerifier(devAuth.localVerifierConfig(localJwksUrl));
  await expect(verifier.verify(`Bearer ${token}`)).resolves.toEqual({
    sub: "dev-user-1",
    email: "dev-user-1@haumana.local",
    name: "Dev User",
  });
  const withEmail = await devAuth.issueDevToken({ sub: "dev-user-2", email: "kumu@example.com" });
  await expect(verifier.verify(withEmail)).resolves.toEqual({ sub: "dev-user-2", email: "kumu@example.com" });
  expect(verifier.stats()).toEqual({ jwksFetches: 1, verified: 2, denied: 0 });
});

test("the token is RS256 with a kid, local issuer and audience, verified email, 1 h lifetime", async () => {
  const token = await devAuth.issueDevToken({ sub: "dev-user-1" });
  const header = decodeProtectedHeader(token);
  const claims = decodeJwt(token);
  const { keys } = await devAuth.localJwks();
  expect(header.alg).toBe("RS256");
  expect(header.kid).toBe(keys[0].kid);
  expect(keys).toHaveLength(1);
  expect(keys[0].d).toBeUndefined(); // public half only
  expect(claims).toMatchObject({
    iss: devAuth.LOCAL_ISSUER,
    aud: devAuth.LOCAL_AUDIENCE,
    sub: "dev-user-1",
    email_verified: true,
  });
  expect(claims.exp! - claims.iat!).toBe(3600);
});

test("the local issuer and audience are not Google's", () => {
  expect(GOOGLE_ISSUERS).not.toContain(devAuth.LOCAL_ISSUER);
  expect(devAuth.LOCAL_AUDIENCE).not.toMatch(/googleusercontent/);
});

test("a verifier configured like production rejects a dev token", async () => {
  const token = await devAuth.issueDevToken({ sub: "dev-user-1" });
  // Production as deployed: Google issuers and client IDs, Google's key set (here a
  // loopback stand-in publishing other keys).
  const prod = createTokenVerifier({ jwksUri: googleLike.url, issuers: GOOGLE_ISSUERS, audiences: PROD_AUDIENCES });
  expect(await deny(prod, token)).toBe("unknown_kid");
  // Even pointed at the local key set by mistake, issuer and audience refuse it.
  const misconfigured = createTokenVerifier({ jwksUri: localJwksUrl, issuers: GOOGLE_ISSUERS, audiences: PROD_AUDIENCES });
  expect(await deny(misconfigured, token)).toBe("bad_iss");
  const localIssuerOnly = createTokenVerifier({
    jwksUri: localJwksUrl,
    issuers: [...GOOGLE_ISSUERS, devAuth.LOCAL_ISSUER],
    audiences: PROD_AUDIENCES,
  });
  expect(await deny(localIssuerOnly, token)).toBe("bad_aud");
  // And through the authorizer handler.
  const handler = createAuthorizer(prod);
  await expect(handler({ type: "TOKEN", authorizationToken: `Bearer ${token}`, methodArn: METHOD_ARN })).rejects.toThrow(
    "Unauthorized",
  );
});

test("the key is stored once, mode 0600, and reused by another process", async () => {
  const file = path.join(process.env.HAUMANA_LOCAL_DIR!, "dev-signing-key.json");
  expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  const stored = JSON.parse(fs.readFileSync(file, "utf8"));
  const other = freshDevAuth();
  const token = await other.issueDevToken({ sub: "dev-user-3" });
  expect(decodeProtectedHeader(token).kid).toBe(stored.kid);
  // Served by the first module instance, verified: same key.
  const verifier = createTokenVerifier(devAuth.localVerifierConfig(localJwksUrl));
  await expect(verifier.verify(token)).resolves.toMatchObject({ sub: "dev-user-3" });
});

test("two processes creating the key at once end up with one key", async () => {
  const saved = process.env.HAUMANA_LOCAL_DIR;
  process.env.HAUMANA_LOCAL_DIR = path.join(dir, "race");
  try {
    const [a, b] = [freshDevAuth(), freshDevAuth()];
    const [ja, jb] = await Promise.all([a.localJwks(), b.localJwks()]);
    expect(ja.keys[0].kid).toBe(jb.keys[0].kid);
  } finally {
    process.env.HAUMANA_LOCAL_DIR = saved;
  }
});

test("a sub is required", async () => {
  await expect(devAuth.issueDevToken({ sub: "" })).rejects.toThrow("sub is required");
  await expect(devAuth.issueDevToken({ sub: "  " })).rejects.toThrow("sub is required");
});
