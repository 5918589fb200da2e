// Cost-allocation tags: whether billing has seen each key of the tag set and
// whether it is active, and activating the inactive ones. A tag only shows up in
// billing up to 24 hours after resources carry it, and only active tags can
// filter a budget or group costs.
import { ListCostAllocationTagsCommand, UpdateCostAllocationTagsStatusCommand } from "@aws-sdk/client-cost-explorer";
import type { CostAllocationTag, ListCostAllocationTagsCommandOutput, UpdateCostAllocationTagsStatusCommandOutput } from "@aws-sdk/client-cost-explorer";
import { TAG_KEYS, TagKey, TagSet } from "../../lib/tags";
import { send, Sender } from "../aws";
import { EXIT, ExitCode } from "../exit-codes";
import { cliCommand } from "../invocation";
import { Colours, table } from "../ui";

export const TAG_VISIBILITY_HOURS = 24;

export type TagState = "active" | "inactive" | "not-seen";

export interface TagStatus {
  key: TagKey;
  /** The value this stack's resources carry (from the stack config). */
  value?: string;
  state: TagState;
  lastUsed?: string;
}

export interface TagsDeps {
  ce: Sender;
  now?: () => Date;
}

/** One ListCostAllocationTags request (more only if AWS pages three keys). */
export async function readTagStatuses(ce: Sender, values?: TagSet): Promise<TagStatus[]> {
  const seen: CostAllocationTag[] = [];
  let NextToken: string | undefined;
  do {
    const out = await send<ListCostAllocationTagsCommandOutput>(
      ce,
      new ListCostAllocationTagsCommand({ TagKeys: [...TAG_KEYS], Type: "UserDefined", NextToken }),
    );
    seen.push(...(out.CostAllocationTags ?? []));
    NextToken = out.NextToken;
  } while (NextToken);
  return TAG_KEYS.map((key) => {
    const t = seen.find((s) => s.TagKey === key);
    const state: TagState = !t ? "not-seen" : t.Status === "Active" ? "active" : "inactive";
    return { key, ...(values ? { value: values[key] } : {}), state, ...(t?.LastUsedDate ? { lastUsed: t.LastUsedDate } : {}) };
  });
}

export interface TagsCheckResult {
  tags: TagStatus[];
  allActive: boolean;
  exitCode: ExitCode;
}

/** A tag that is not active, inactive or not yet seen, is the same condition from every command: exit 4. */
export async function checkTags(deps: TagsDeps, values?: TagSet): Promise<TagsCheckResult> {
  const tags = await readTagStatuses(deps.ce, values);
  const allActive = tags.every((t) => t.state === "active");
  return { tags, allActive, exitCode: allActive ? EXIT.OK : EXIT.PRECONDITION };
}

export type ActivateOutcome = "already-active" | "activated" | "not-seen" | "failed";

export interface TagsActivateResult {
  tags: (TagStatus & { outcome: ActivateOutcome; error?: string })[];
  /** When to try again for tags billing has not seen yet. */
  retryAfter?: string;
  exitCode: ExitCode;
}

export async function activateTags(deps: TagsDeps, values?: TagSet): Promise<TagsActivateResult> {
  const now = deps.now ?? (() => new Date());
  const before = await readTagStatuses(deps.ce, values);
  const inactive = before.filter((t) => t.state === "inactive");
  const errors = new Map<string, string>();
  if (inactive.length > 0) {
    const out = await send<UpdateCostAllocationTagsStatusCommandOutput>(
      deps.ce,
      new UpdateCostAllocationTagsStatusCommand({
        CostAllocationTagsStatus: inactive.map((t) => ({ TagKey: t.key, Status: "Active" })),
      }),
    );
    for (const e of out.Errors ?? []) if (e.TagKey) errors.set(e.TagKey, `${e.Code ?? "Error"}: ${e.Message ?? ""}`.trim());
  }
  const tags = before.map((t) => {
    if (t.state === "active") return { ...t, outcome: "already-active" as const };
    if (t.state === "not-seen") return { ...t, outcome: "not-seen" as const };
    const error = errors.get(t.key);
    return error ? { ...t, outcome: "failed" as const, error } : { ...t, state: "active" as const, outcome: "activated" as const };
  });
  const notSeen = tags.some((t) => t.outcome === "not-seen");
  const failed = tags.some((t) => t.outcome === "failed");
  return {
    tags,
    ...(notSeen ? { retryAfter: new Date(now().getTime() + TAG_VISIBILITY_HOURS * 3600_000).toISOString() } : {}),
    exitCode: failed ? EXIT.FAILURE : notSeen ? EXIT.PRECONDITION : EXIT.OK,
  };
}

const STATE_TEXT: Record<TagState, () => string> = {
  active: () => "active",
  inactive: () => "inactive",
  "not-seen": () => `not yet seen by billing (tags appear up to ${TAG_VISIBILITY_HOURS} h after resources carry them)`,
};

function mark(c: Colours, ok: boolean) {
  return ok ? c.green("✓") : c.red("✗");
}

function label(t: TagStatus) {
  return t.value ? `${t.key}=${t.value}` : t.key;
}

export function renderTagsCheck(r: TagsCheckResult, c: Colours): string {
  let text = table(r.tags.map((t) => [mark(c, t.state === "active"), label(t), STATE_TEXT[t.state]()]));
  if (r.tags.some((t) => t.state === "inactive")) text += `\n\nActivate the inactive ones: ${cliCommand("tags", "activate")}`;
  return text;
}

const OUTCOME_TEXT: Record<ActivateOutcome, string> = {
  "already-active": "already active",
  activated: "activated (cost data is grouped by it from now on; allow up to 24 h)",
  "not-seen": "not yet seen by billing: cannot be activated yet",
  failed: "activation failed",
};

export function renderTagsActivate(r: TagsActivateResult, c: Colours): string {
  const rows = r.tags.map((t) => [
    mark(c, t.outcome === "already-active" || t.outcome === "activated"),
    label(t),
    OUTCOME_TEXT[t.outcome] + (t.error ? `: ${t.error}` : ""),
  ]);
  let text = table(rows);
  if (r.retryAfter) {
    text +=
      `\n\nBilling lists a tag up to ${TAG_VISIBILITY_HOURS} hours after resources carry it. ` +
      `Deploy the stack (pulumi up) if you have not, then after ${r.retryAfter} run again: ${cliCommand("tags", "activate")}`;
  }
  return text;
}
