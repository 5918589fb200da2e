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
import { defineConvergenceSuite } from "./helpers/convergence";

const RUNS = Number(process.env.CONVERGENCE_RUNS ?? 400);
jest.setTimeout(15 * 60 * 1000);

defineConvergenceSuite({
  name: "convergence (sequential)",
  label: "conv",
  runs: RUNS,
  concurrent: 0,
  title: `${RUNS} generated cases converge with nothing acknowledged lost`,
});
