// Authorizer figures: JWKS fetches and verifications per second in one warm
// container, ours (createTokenVerifier: one cached key set per container) against
// a baseline verifier that builds a new jose remote key set on every call, so it
// fetches the JWKS every time. The JWKS is served on 127.0.0.1 with a request
// counter (tests/helpers/jwks.ts).
import { createRemoteJWKSet, jwtVerify } from "jose";
import { createTokenVerifier } from "../functions/core/verify";
import { googleClaims, signToken, startJwksServer, TEST_AUDIENCE, TEST_ISSUER } from "../tests/helpers/jwks";
import { median } from "./stats";

export interface AuthFigures {
  verifications: number;
  oursFetches: number;
  baselineFetches: number;
  oursPerSecond: number;
  baselinePerSecond: number;
  /** Median time of one verification, ms. */
  oursMs: number;
  baselineMs: number;
  runs: number;
  /** Short cache period check: fetches seen and the periods that elapsed. */
  period: { periodMs: number; elapsedMs: number; fetches: number; allowed: number };
}

type Verify = (token: string) => Promise<unknown>;

async function timeRun(verify: Verify, token: string, count: number): Promise<number> {
  const t = process.hrtime.bigint();
  for (let i = 0; i < count; i++) await verify(token);
  return Number(process.hrtime.bigint() - t) / 1e6;
}

export async function measureAuth(opts: { verifications?: number; runs?: number } = {}): Promise<AuthFigures> {
  const count = opts.verifications ?? 1000;
  const runs = opts.runs ?? 3;
  const jwks = await startJwksServer();
  try {
    const token = await signToken(jwks.key, googleClaims());
    const config = { jwksUri: jwks.url, issuers: [TEST_ISSUER], audiences: [TEST_AUDIENCE] };

    // Ours: one verifier for the container's life.
    const ours = createTokenVerifier(config);
    const oursVerify: Verify = (t) => ours.verify(`Bearer ${t}`);
    let before = jwks.requests;
    const oursTimes = [await timeRun(oursVerify, token, count)];
    const oursFetches = jwks.requests - before;
    for (let r = 1; r < runs; r++) oursTimes.push(await timeRun(oursVerify, token, count));

    // Baseline: the key set (and so its cache) is created per call.
    const verifyOptions = { algorithms: ["RS256"], issuer: [TEST_ISSUER], audience: [TEST_AUDIENCE] };
    const baselineVerify: Verify = (t) => jwtVerify(t, createRemoteJWKSet(new URL(jwks.url)), verifyOptions);
    before = jwks.requests;
    const baseTimes = [await timeRun(baselineVerify, token, count)];
    const baselineFetches = jwks.requests - before;
    for (let r = 1; r < runs; r++) baseTimes.push(await timeRun(baselineVerify, token, count));

    // A short cache period, to see "at most one fetch per period" happen.
    const periodMs = 250;
    const short = createTokenVerifier({ ...config, cacheMaxAgeMs: periodMs });
    before = jwks.requests;
    const t0 = Date.now();
    while (Date.now() - t0 < 1500) await short.verify(token);
    const elapsedMs = Date.now() - t0;
    const fetches = jwks.requests - before;

    const oursRun = median(oursTimes);
    const baseRun = median(baseTimes);
    return {
      verifications: count,
      oursFetches,
      baselineFetches,
      oursPerSecond: (count / oursRun) * 1000,
      baselinePerSecond: (count / baseRun) * 1000,
      oursMs: oursRun / count,
      baselineMs: baseRun / count,
      runs,
      period: { periodMs, elapsedMs, fetches, allowed: Math.floor(elapsedMs / periodMs) + 1 },
    };
  } finally {
    await jwks.close();
  }
}
