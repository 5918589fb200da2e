// Issue 5, convergence under faults: generated interleavings of several devices of
// one user (creating, editing, recording and ending sessions, syncing) against the
// real route handlers on DynamoDB Local, while requests and responses are lost and
// the real DynamoDB client is throttled, returns unprocessed keys, or the handler
// dies after a write. After the faults stop and every device syncs until quiet,
// every device holds exactly the server's pieces and sessions, no acknowledged edit
// is missing unless the documented rule replaced it, nothing is duplicated and no
// version goes down (the oracle: tests/helpers/convergence.ts).
//
// This suite runs the steps one at a time (convergence-concurrent adds syncs of
// all devices at the same moment). CONVERGENCE_RUNS overrides the number of cases.
import fc from "fast-check";
import { caseArb, Env, figuresLine, newFigures, runCase, STORE_MAX_ATTEMPTS } from "./helpers/convergence";
import { FaultyClient, withFaults } from "./helpers/faults";
import { createHarness, Harness } from "./helpers/sync-harness";

const RUNS = Number(process.env.CONVERGENCE_RUNS ?? 1200);
jest.setTimeout(15 * 60 * 1000);

let h: Harness;
let faults: FaultyClient;
const figures = newFigures();
let ms: number | undefined;
beforeAll(async () => {
  h = await createHarness("conv", {
    doc: (doc) => (faults = withFaults(doc)).doc,
    store: { sleep: async () => undefined, maxAttempts: STORE_MAX_ATTEMPTS },
  });
  h.logs.length = 0;
});
afterAll(async () => {
  console.log(figuresLine("convergence (sequential)", figures, ms));
  await h.done();
});

test(`${RUNS} generated cases converge with nothing acknowledged lost`, async () => {
  const env: Env = { h, faults, figures, label: "seq" };
  const t0 = Date.now();
  await fc.assert(
    fc.asyncProperty(caseArb({ minSteps: 5, maxSteps: 25, concurrent: 0 }), async (c) => {
      h.logs.length = 0;
      await runCase(env, c);
    }),
    { numRuns: RUNS },
  );
  ms = Date.now() - t0;
});
