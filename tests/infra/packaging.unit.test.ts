// Proves the packaging: the code archive each function hands to Pulumi is loaded,
// alone, in a fresh Node process (from a directory where no node_modules can be
// found) with the environment the program gives it, and its handler is called.
import { FUNCTION_NAMES } from "../../lib/names";
import { deployedArchives, type DeployedArchives } from "./archives";

let archives: DeployedArchives;
beforeAll(async () => {
  archives = await deployedArchives("prod");
}, 120000);
afterAll(() => archives?.cleanup());
const deployedCode = (fn: Parameters<DeployedArchives["deployedCode"]>[0]) => archives.deployedCode(fn);
const invoke: DeployedArchives["invoke"] = (fn, event, env) => archives.invoke(fn, event, env);

// The SDK requires this inside a try, only for SigV4a signing, which Haumana never uses.
const OPTIONAL_REQUIRES = ["@aws-sdk/signature-v4-crt"];

test("every function's archive is one index.js with no imports outside Node", async () => {
  const { builtinModules } = await import("node:module");
  for (const fn of FUNCTION_NAMES) {
    const code = await deployedCode(fn);
    expect(code.length).toBeGreaterThan(100);
    const requires = [...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
    const foreign = requires.filter((r) => !r.startsWith("node:") && !builtinModules.includes(r) && !OPTIONAL_REQUIRES.includes(r));
    expect({ fn, foreign }).toEqual({ fn, foreign: [] });
  }
});

test("the authorizer, loaded from its archive, denies a garbage token", async () => {
  const outcome = await invoke(
    "authorizer",
    { type: "TOKEN", authorizationToken: "Bearer garbage", methodArn: "arn:aws:execute-api:us-west-2:123456789012:abc/prod/POST/pieces" },
    // A garbage token fails before any key fetch; should it not, the fetch fails too.
    { AUTH_JWKS_URI: "http://127.0.0.1:1/" },
  );
  expect(outcome).toEqual({ loaded: true, handler: "function", error: "Unauthorized" });
});

test.each(["auth-sync", "sync-pieces", "sync-sessions", "user-export", "user-delete"] as const)("%s loads from its archive and exports a handler", async (fn) => {
  expect(await invoke(fn, null)).toEqual({ loaded: true, handler: "function" });
});
