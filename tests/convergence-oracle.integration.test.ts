// The convergence property is only worth something if it can fail. Each case here
// runs it against a server with one deliberate bug, planted in the DynamoDB client
// under the real handlers, and expects fast-check to find a counterexample:
// - forget-history: merges never find their base nor any past value, so a value a
//   device holds only because it is stale counts as its edit and the later edit
//   time wins; the devices still agree with each other, and only the
//   acknowledgement oracle can tell that an acknowledged edit was lost;
// - skip-cursor-second: an incremental pull leaves out the changes in its cursor's
//   own second (the old backend's timestamp race), so a device misses a write;
// - drop-write: an edit's (or deletion's) transaction reports success but never lands.
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import fc from "fast-check";
import { VERSION_STEP } from "../lib/limits";
import { caseArb, Env, newFigures, runCase, STORE_MAX_ATTEMPTS } from "./helpers/convergence";
import { withFaults } from "./helpers/faults";
import { createHarness } from "./helpers/sync-harness";

jest.setTimeout(5 * 60 * 1000);

type Mutant = "forget-history" | "skip-cursor-second" | "drop-write";

function plant(kind: Mutant, real: DynamoDBDocumentClient): DynamoDBDocumentClient {
  let writes = 0;
  const send = async (command: any, ...rest: any[]) => {
    const name = command.constructor?.name;
    if (kind === "drop-write" && name === "TransactWriteCommand") {
      const items: any[] = command.input.TransactItems ?? [];
      const edit = items.some((t) => t.Put?.Item?.version >= 2 * VERSION_STEP);
      if (edit && ++writes % 3 === 0) return {};
    }
    const out: any = await (real.send as any)(command, ...rest);
    if (kind === "forget-history" && name === "BatchGetCommand") {
      for (const list of Object.values<any[]>(out.Responses ?? {})) for (const it of list) delete it.fieldHistory;
    }
    if (kind === "skip-cursor-second" && name === "QueryCommand") {
      const lo = command.input.ExpressionAttributeValues?.[":lo"];
      if (typeof lo === "string" && lo.length >= 19 && out.Items) {
        out.Items = out.Items.filter((it: any) => String(it.changeKey).slice(0, 19) !== lo.slice(0, 19));
      }
    }
    return out;
  };
  return new Proxy(real, { get: (t, p, r) => (p === "send" ? send : Reflect.get(t, p, r)) });
}

test.each<[Mutant, RegExp]>([
  ["forget-history", /^acknowledged \w+=.* was replaced by|its edit \w+=.* was rejected for/],
  ["skip-cursor-second", /is v\d+ .*, the server v\d+|lacks piece|holds \d+ pieces, the server/],
  // A dropped deletion leaves the server one piece more than the devices.
  ["drop-write", /the server v\d+|two contents for|acknowledged|server pieces: missing|was rejected for|holds \d+ pieces, the server \d+/],
])("a server with the %s bug fails the property", async (kind, expected) => {
  let faults!: ReturnType<typeof withFaults>;
  const h = await createHarness(`mut-${kind}`, {
    doc: (doc) => (faults = withFaults(plant(kind, doc))).doc,
    store: { sleep: async () => undefined, maxAttempts: STORE_MAX_ATTEMPTS },
  });
  try {
    const env: Env = { h, faults, figures: newFigures(), label: kind };
    let message = "";
    await expect(
      fc.assert(
        fc.asyncProperty(caseArb({ minSteps: 5, maxSteps: 25, concurrent: 0 }), async (c) => {
          try {
            await runCase(env, c);
          } catch (e: any) {
            message = e.message;
            throw e;
          }
        }),
        { numRuns: 400, endOnFailure: true },
      ),
    ).rejects.toThrow();
    expect(message).toMatch(expected);
    console.log(`${kind}: caught after ${env.figures.cases} cases: ${message.slice(0, 160)}`);
  } finally {
    await h.done();
  }
});
