// A JWKS server on 127.0.0.1 for auth tests: RSA keys from jose, a request
// counter, and switchable failure modes (500, reset, slow headers, trickled
// body), plus token signing with arbitrary claims and headers, including the
// forged shapes of the attack matrix (alg none, HS256 with the public key).
import { exportJWK, exportSPKI, generateKeyPair, JWK, KeyLike, SignJWT } from "jose";
import * as http from "node:http";
import { AddressInfo } from "node:net";

export const TEST_ISSUER = "https://accounts.google.com";
export const TEST_AUDIENCE = "test-ios-client.apps.googleusercontent.com";

export type JwksMode = "ok" | "500" | "reset" | "slow" | "trickle";

export interface TestKey {
  kid: string;
  privateKey: KeyLike;
  publicKey: KeyLike;
  publicJwk: JWK;
}

export async function makeKey(kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { modulusLength: 2048 });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" };
  return { kid, privateKey, publicKey, publicJwk };
}

export interface JwksServer {
  url: string;
  /** Keys the server publishes; edit to rotate. */
  published: TestKey[];
  /** The first published key, for signing valid tokens. */
  key: TestKey;
  requests: number;
  mode: JwksMode;
  /** How long "slow" and "trickle" stall. */
  stallMs: number;
  close(): Promise<void>;
}

export async function startJwksServer(opts: { keys?: TestKey[] } = {}): Promise<JwksServer> {
  const keys = opts.keys ?? [await makeKey("test-key-1")];
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };
  const state: JwksServer = {
    url: "",
    published: keys,
    key: keys[0],
    requests: 0,
    mode: "ok",
    stallMs: 10000,
    close: async () => undefined,
  };
  const server = http.createServer((req, res) => {
    state.requests++;
    const body = JSON.stringify({ keys: state.published.map((k) => k.publicJwk) });
    switch (state.mode) {
      case "500":
        res.writeHead(500, { "content-type": "text/plain" }).end("down");
        return;
      case "reset":
        req.socket.destroy();
        return;
      case "slow":
        later(state.stallMs, () => res.writeHead(200, { "content-type": "application/json" }).end(body));
        return;
      case "trickle":
        res.writeHead(200, { "content-type": "application/json" });
        res.write(body.slice(0, 10));
        later(state.stallMs, () => res.end(body.slice(10)));
        return;
      default:
        res.writeHead(200, { "content-type": "application/json" }).end(body);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth2/v3/certs`;
  state.close = () =>
    new Promise<void>((resolve) => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

export type Claims = Record<string, unknown>;

/** Claims of a valid Google ID token; `overrides` replace them, undefined removes one. */
export function googleClaims(overrides: Claims = {}): Claims {
  // new Date(), not Date.now(): tests move Date.now() to step jose's JWKS cooldown.
  const now = Math.floor(new Date().getTime() / 1000);
  const base: Claims = {
    iss: TEST_ISSUER,
    aud: TEST_AUDIENCE,
    azp: TEST_AUDIENCE,
    sub: "109876543210987654321",
    email: "kumu@example.com",
    email_verified: true,
    name: "Kumu Hula",
    picture: "https://lh3.googleusercontent.com/a/test",
    iat: now,
    exp: now + 3600,
  };
  const out: Claims = { ...base, ...overrides };
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out;
}

/** An RS256 token signed by `key`; header fields may be overridden (e.g. kid). */
export async function signToken(key: TestKey, claims: Claims = googleClaims(), header: Claims = {}): Promise<string> {
  return new SignJWT(claims as any)
    .setProtectedHeader({ alg: "RS256", kid: key.kid, typ: "JWT", ...header } as any)
    .sign(key.privateKey);
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");

/** `alg: none`: no signature at all. */
export function unsignedToken(claims: Claims = googleClaims(), kid = "test-key-1"): string {
  return `${b64({ alg: "none", typ: "JWT", kid })}.${b64(claims)}.`;
}

/** The classic key-confusion forgery: HS256 with the RSA public key (PEM) as the secret. */
export async function hs256WithPublicKey(key: TestKey, claims: Claims = googleClaims()): Promise<string> {
  const secret = new TextEncoder().encode(await exportSPKI(key.publicKey));
  return new SignJWT(claims as any).setProtectedHeader({ alg: "HS256", kid: key.kid, typ: "JWT" }).sign(secret);
}

/** A validly signed token whose payload was then replaced (signature kept). */
export function withPayload(token: string, claims: Claims): string {
  const [h, , s] = token.split(".");
  return `${h}.${b64(claims)}.${s}`;
}

/** Every 20-character window of the token's signature: none may appear in a log. */
export function secretFragments(token: string): string[] {
  const sig = token.split(".")[2] ?? "";
  const out = [token];
  for (let i = 0; i + 20 <= sig.length; i += 1) out.push(sig.slice(i, i + 20));
  return out;
}

/**
 * What of `token` (a bearer scheme before it is stripped) appears in `lines`: the
 * whole token, a 20-character run of its signature, or a part of it of 20 characters
 * or more. One plain search, so a test asserts on the list once rather than once per
 * line and fragment.
 */
export function leakedFragments(lines: string[], token: string): string[] {
  const bare = token.replace(/^\S+\s+/, "");
  const fragments = [...secretFragments(bare), ...bare.split(".").filter((p) => p.length >= 20)];
  return fragments.filter((f) => lines.some((l) => l.includes(f)));
}
