// tags check / activate against a mocked Cost Explorer (moto has neither
// ListCostAllocationTags nor UpdateCostAllocationTagsStatus): exact requests.
import { CostExplorerClient, ListCostAllocationTagsCommand, UpdateCostAllocationTagsStatusCommand } from "@aws-sdk/client-cost-explorer";
import { mockClient } from "aws-sdk-client-mock";
import { activateTags, checkTags, renderTagsActivate, renderTagsCheck } from "../cli/actions/tags";
import { colours } from "../cli/ui";
import { stackTags } from "../lib/tags";

const ce = mockClient(CostExplorerClient);
const plain = colours(false);
const NOW = new Date("2026-12-01T09:30:00Z");
const values = stackTags({ environment: "Production", costCenter: "Haumana" });
const deps = () => ({ ce: new CostExplorerClient({ region: "us-east-1" }), now: () => NOW });
const tag = (TagKey: string, Status: "Active" | "Inactive") => ({ TagKey, Status, Type: "UserDefined" as const, LastUsedDate: "2026-11-30T00:00:00Z" });

beforeEach(() => ce.reset());

test("check asks for exactly the three keys of the tag set", async () => {
  ce.on(ListCostAllocationTagsCommand).resolves({ CostAllocationTags: [] });
  await checkTags(deps());
  expect(ce.calls().map((c) => [(c.args[0] as any).constructor.name, c.args[0].input])).toEqual([
    ["ListCostAllocationTagsCommand", { TagKeys: ["Project", "Environment", "CostCenter"], Type: "UserDefined", NextToken: undefined }],
  ]);
});

test("check: active, inactive and not yet seen; exit 4 unless all active", async () => {
  ce.on(ListCostAllocationTagsCommand).resolves({ CostAllocationTags: [tag("Project", "Active"), tag("Environment", "Inactive")] });
  const r = await checkTags(deps(), values);
  expect(r.tags.map((t) => [t.key, t.value, t.state])).toEqual([
    ["Project", "Haumana", "active"],
    ["Environment", "Production", "inactive"],
    ["CostCenter", "Haumana", "not-seen"],
  ]);
  expect(r.exitCode).toBe(4);
  const text = renderTagsCheck(r, plain);
  expect(text).toMatch(/✓\s+Project=Haumana\s+active/);
  expect(text).toMatch(/✗\s+Environment=Production\s+inactive\n/);
  expect(text).toMatch(/\nActivate the inactive ones: haumana-ops tags activate$/);
  expect(text).toMatch(/✗\s+CostCenter=Haumana\s+not yet seen by billing \(tags appear up to 24 h after resources carry them\)/);
});

test("check: all active is exit 0", async () => {
  ce.on(ListCostAllocationTagsCommand).resolves({ CostAllocationTags: [tag("CostCenter", "Active"), tag("Project", "Active"), tag("Environment", "Active")] });
  const r = await checkTags(deps());
  expect(r.allActive).toBe(true);
  expect(r.exitCode).toBe(0);
});

test("check follows a next page", async () => {
  ce.on(ListCostAllocationTagsCommand, { NextToken: undefined })
    .resolves({ CostAllocationTags: [tag("Project", "Active")], NextToken: "n" })
    .on(ListCostAllocationTagsCommand, { NextToken: "n" })
    .resolves({ CostAllocationTags: [tag("Environment", "Active"), tag("CostCenter", "Active")] });
  expect((await checkTags(deps())).exitCode).toBe(0);
});

test("activate sends one request for just the inactive keys; a key not yet seen means exit 4 and when to retry", async () => {
  ce.on(ListCostAllocationTagsCommand).resolves({ CostAllocationTags: [tag("Project", "Inactive"), tag("Environment", "Active")] });
  ce.on(UpdateCostAllocationTagsStatusCommand).resolves({ Errors: [] });
  const r = await activateTags(deps(), values);
  expect(ce.commandCalls(UpdateCostAllocationTagsStatusCommand).map((c) => c.args[0].input)).toEqual([
    { CostAllocationTagsStatus: [{ TagKey: "Project", Status: "Active" }] },
  ]);
  expect(r.tags.map((t) => [t.key, t.outcome])).toEqual([
    ["Project", "activated"],
    ["Environment", "already-active"],
    ["CostCenter", "not-seen"],
  ]);
  expect(r.retryAfter).toBe("2026-12-02T09:30:00.000Z");
  expect(r.exitCode).toBe(4);
  const text = renderTagsActivate(r, plain);
  expect(text).toMatch(/✗\s+CostCenter=Haumana\s+not yet seen by billing/);
  expect(text).toContain("up to 24 hours after resources carry it");
  expect(text).toContain("then after 2026-12-02T09:30:00.000Z run again: haumana-ops tags activate");
});

test("activate with everything active sends no update and exits 0", async () => {
  ce.on(ListCostAllocationTagsCommand).resolves({ CostAllocationTags: ["Project", "Environment", "CostCenter"].map((k) => tag(k, "Active")) });
  const r = await activateTags(deps());
  expect(ce.commandCalls(UpdateCostAllocationTagsStatusCommand)).toHaveLength(0);
  expect(r.exitCode).toBe(0);
  expect(r.retryAfter).toBeUndefined();
});

test("activate reports per-key errors from the response as failures (exit 1)", async () => {
  ce.on(ListCostAllocationTagsCommand).resolves({ CostAllocationTags: ["Project", "Environment", "CostCenter"].map((k) => tag(k, "Inactive")) });
  ce.on(UpdateCostAllocationTagsStatusCommand).resolves({ Errors: [{ TagKey: "Environment", Code: "TagKeysNotFoundException", Message: "gone" }] });
  const r = await activateTags(deps());
  expect(ce.commandCalls(UpdateCostAllocationTagsStatusCommand)[0].args[0].input.CostAllocationTagsStatus!.map((s) => s.TagKey)).toEqual([
    "Project",
    "Environment",
    "CostCenter",
  ]);
  expect(r.tags.map((t) => t.outcome)).toEqual(["activated", "failed", "activated"]);
  expect(r.tags[1].error).toBe("TagKeysNotFoundException: gone");
  expect(r.exitCode).toBe(1);
});
