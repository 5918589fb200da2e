// Server versions. The app adds 1 to a piece's local version at every practice
// start and favourite toggle, so the version it pushes is "the last server version
// it took + any number of local bumps", and an equal version proves nothing. The
// server therefore issues only multiples of VERSION_STEP: rounding a pushed
// version down recovers the server version the device started from, and every
// version the server answers with is above any the device can hold, so the app
// (which takes the server's copy only when its version is greater) takes it.
import { MAX_ISSUED_VERSION, VERSION_STEP } from "../../lib/limits";

/** The server version a pushed version started from. */
export function baseVersion(pushed: number): number {
  return Math.floor(pushed / VERSION_STEP) * VERSION_STEP;
}

/** True when `v` is a version this server could have issued (not one with local bumps, nor an old backend's). */
export function isServerVersion(v: number): boolean {
  return v > 0 && v % VERSION_STEP === 0;
}

/**
 * The version of the next write of a piece stored at `stored` (undefined: new),
 * pushed from `pushed`: above both, so versions only go up on the server and the
 * device takes the answer. Undefined when that would pass MAX_ISSUED_VERSION.
 */
export function nextVersion(stored: number | undefined, pushed: number): number | undefined {
  const v = Math.max(stored ?? 0, baseVersion(pushed)) + VERSION_STEP;
  return v <= MAX_ISSUED_VERSION ? v : undefined;
}
