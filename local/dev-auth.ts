// Local sign-in for the local server only. A local RSA key (generated once, kept in
// <repo>/.haumana-local/dev-signing-key.json, mode 0600) signs RS256 tokens for the
// issuer "https://haumana.local" and audience "haumana-local"; the local server
// serves localJwks() and verifies them with the same createTokenVerifier code as
// production. Production never trusts these tokens: its issuers are Google's, its
// audiences are the app's OAuth client IDs and its JWKS is Google's.
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, JWK, KeyLike, SignJWT } from "jose";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { TokenVerifierConfig } from "../functions/core/verify";

export const LOCAL_ISSUER = "https://haumana.local";
export const LOCAL_AUDIENCE = "haumana-local";
export const DEV_TOKEN_LIFETIME_SECONDS = 60 * 60;
const KEY_FILE = "dev-signing-key.json";

export interface DevTokenClaims {
  sub: string;
  email?: string;
  name?: string;
}

interface StoredKey {
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
  createdAt: string;
}

interface LoadedKey {
  kid: string;
  privateKey: KeyLike | Uint8Array;
  publicJwk: JWK;
}

/**
 * Where the key lives: $HAUMANA_LOCAL_DIR if set (tests), else .haumana-local in
 * the repo root, found by walking up to package.json so it is the same folder for
 * the TypeScript sources and the bundled CLI in dist/.
 */
export function localStateDir(): string {
  if (process.env.HAUMANA_LOCAL_DIR) return path.resolve(process.env.HAUMANA_LOCAL_DIR);
  let dir = __dirname;
  for (;;) {
    if (fs.existsSync(path.join(dir, "package.json"))) return path.join(dir, ".haumana-local");
    const up = path.dirname(dir);
    if (up === dir) return path.resolve(process.cwd(), ".haumana-local");
    dir = up;
  }
}

const loaded = new Map<string, Promise<LoadedKey>>();

function loadKey(): Promise<LoadedKey> {
  const file = path.join(localStateDir(), KEY_FILE);
  let p = loaded.get(file);
  if (!p) {
    p = readOrCreate(file);
    p.catch(() => loaded.delete(file));
    loaded.set(file, p);
  }
  return p;
}

async function readOrCreate(file: string): Promise<LoadedKey> {
  let stored = readStored(file);
  if (!stored) {
    const { privateKey, publicKey } = await generateKeyPair("RS256", { modulusLength: 2048, extractable: true });
    const publicJwk = { ...(await exportJWK(publicKey)), alg: "RS256", use: "sig" };
    const kid = await calculateJwkThumbprint(publicJwk);
    const candidate: StoredKey = {
      kid,
      privateJwk: { ...(await exportJWK(privateKey)), alg: "RS256", kid },
      publicJwk: { ...publicJwk, kid },
      createdAt: new Date().toISOString(),
    };
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    // Written whole to a private temp file, then linked into place: link() fails
    // if the key exists, so when the CLI and the server create it at the same
    // moment one wins, and the other never sees a half-written file.
    const tmp = `${file}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(candidate, null, 2) + "\n", { mode: 0o600, flag: "wx" });
    try {
      fs.linkSync(tmp, file);
    } catch (err: any) {
      if (err?.code !== "EEXIST") throw err;
    } finally {
      fs.rmSync(tmp, { force: true });
    }
    stored = readStored(file);
    if (!stored) throw new Error(`could not read the dev signing key at ${file}`);
  }
  return { kid: stored.kid, privateKey: await importJWK(stored.privateJwk, "RS256"), publicJwk: stored.publicJwk };
}

function readStored(file: string): StoredKey | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err: any) {
    if (err?.code === "ENOENT") return undefined;
    throw err;
  }
  const parsed = JSON.parse(text) as StoredKey;
  if (!parsed.kid || !parsed.privateJwk?.d || !parsed.publicJwk?.n) {
    throw new Error(`${file} is not a dev signing key; delete it to generate a new one`);
  }
  if ((fs.statSync(file).mode & 0o077) !== 0) fs.chmodSync(file, 0o600);
  return parsed;
}

/** A bearer token (without the "Bearer " prefix) that only the local server accepts. */
export async function issueDevToken(claims: DevTokenClaims): Promise<string> {
  const sub = claims.sub?.trim();
  if (!sub) throw new Error("sub is required");
  const key = await loadKey();
  const payload: Record<string, unknown> = {
    email: claims.email ?? `${sub}@haumana.local`,
    email_verified: true,
  };
  if (claims.name) payload.name = claims.name;
  return new SignJWT(payload)
    .setProtectedHeader({ alg: "RS256", kid: key.kid, typ: "JWT" })
    .setIssuer(LOCAL_ISSUER)
    .setAudience(LOCAL_AUDIENCE)
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(`${DEV_TOKEN_LIFETIME_SECONDS}s`)
    .sign(key.privateKey);
}

/** The public key set the local server serves, e.g. at /.well-known/jwks.json. */
export async function localJwks(): Promise<{ keys: JWK[] }> {
  const key = await loadKey();
  return { keys: [key.publicJwk] };
}

/** Verifier settings for the local server: local issuer and audience, its own JWKS URL. */
export function localVerifierConfig(jwksUri: string): TokenVerifierConfig {
  return { jwksUri, issuers: [LOCAL_ISSUER], audiences: [LOCAL_AUDIENCE] };
}
