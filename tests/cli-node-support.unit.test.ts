// The Node policy (README "Prerequisites"): the project runs on Node 20 and 22+.
// AWS SDK releases after the first week of January 2027 need Node 22, so the SDK is
// pinned: every @aws-sdk package the project depends on is an exact version, the
// one package-lock.json installs, and every AWS SDK and Smithy package in the lock
// (the SDK's own dependencies, which the lock pins) must accept the oldest Node
// package.json's engines allows. A bump that needs a newer Node fails here first.
import * as fs from "node:fs";
import * as path from "node:path";
import * as semver from "semver";

const ROOT = path.resolve(__dirname, "..");
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8"));
const oldestNode = semver.minVersion(pkg.engines.node)!.version;

test("the project's engines start at Node 20", () => {
  expect(semver.major(oldestNode)).toBe(20);
});

const direct = Object.entries({ ...pkg.dependencies, ...pkg.devDependencies } as Record<string, string>).filter(([name]) => name.startsWith("@aws-sdk/"));

test.each(direct)("%s is pinned to the exact version the lock installs (%s)", (name, range) => {
  expect(semver.valid(range)).toBe(range);
  expect(lock.packages[`node_modules/${name}`].version).toBe(range);
  expect(lock.packages[""].dependencies?.[name] ?? lock.packages[""].devDependencies?.[name]).toBe(range);
});

const sdkPackages = Object.entries(lock.packages as Record<string, { version: string; engines?: { node?: string } }>)
  .filter(([p]) => /node_modules\/@(aws-sdk|smithy|aws)\/[^/]+$/.test(p))
  .map(([p, v]) => [p.replace(/^.*node_modules\//, ""), v.version, v.engines?.node ?? ""] as const);

test("the lock holds the SDK", () => {
  expect(sdkPackages.length).toBeGreaterThan(20);
});

test.each(sdkPackages)(`%s@%s runs on the oldest supported Node (engines: %s)`, (_name, _version, engines) => {
  if (engines) expect(semver.satisfies(oldestNode, engines)).toBe(true);
});
