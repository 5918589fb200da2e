// lib/names.ts: the one definition of physical names. No stack's names can equal a
// name of the live CDK deployment, whatever prefix it is given.
import { FUNCTION_NAMES, LIVE_NAMES, liveCollisions, NameCollisionError, physicalNames, resourceNames } from "../lib/names";
import { knownStacks, readStackSettings } from "../lib/stack-config";

test("the prefix that reproduces the live names is refused, naming each collision", () => {
  let err: unknown;
  try {
    resourceNames("haumana");
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(NameCollisionError);
  const names = (err as NameCollisionError).collisions.map((c) => `${c.kind} ${c.name}`);
  expect(names).toEqual(
    expect.arrayContaining([
      "dynamodb-table haumana-pieces",
      "dynamodb-table haumana-sessions",
      "lambda-function haumana-sync-pieces",
      "log-group /aws/lambda/haumana-auth-sync",
      "user-pool haumana-users",
      "rest-api haumana-api",
    ]),
  );
  expect((err as Error).message).toMatch(/haumana-pieces/);
});

test("every committed stack's names, custom domain included, avoid every live name", () => {
  expect(knownStacks().sort()).toEqual(["dev", "prod"]);
  for (const stack of knownStacks()) {
    const s = readStackSettings(stack);
    const all = physicalNames(resourceNames(s.namePrefix), { ...s, domainName: "api.example.com" });
    expect(all.length).toBe(2 + FUNCTION_NAMES.length * 3 + 1 + 2 + 1 + 1);
    expect(liveCollisions(all)).toEqual([]);
    expect(new Set(all.map((n) => n.name)).size).toBe(all.length);
  }
});

test("collisions compare names case-insensitively, within a kind", () => {
  expect(liveCollisions([{ kind: "rest-api", name: "Haumana-API", unique: false }])).toHaveLength(1);
  expect(liveCollisions([{ kind: "dynamodb-table", name: "haumana-api", unique: true }])).toEqual([]);
  expect(LIVE_NAMES.filter((n) => n.kind === "log-group")).toHaveLength(7);
});

test("the prefixes of other uses still work (local server, tests)", () => {
  expect(resourceNames("haumana-local").piecesTable).toBe("haumana-local-pieces");
  expect(() => resourceNames("Haumana")).toThrow(/lower-case/);
});
