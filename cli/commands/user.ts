// `haumana-ops user show|export|delete`: declarations only; the work is in cli/actions/user.ts.
import { Command } from "commander";
import { confirm, Context, stackSettings } from "../context";
import { STACK_OPTION, withExamples, YES_OPTION } from "./help";
import { emit, noteEndpoint } from "./output";

interface Who {
  stack: string;
  email?: string;
  sub?: string;
}

function whoOptions(cmd: Command): Command {
  return cmd
    .option(...STACK_OPTION)
    .option("--email <address>", "the user's email, as their Cognito user holds it")
    .option("--sub <id>", "the user's Google user id (the token's sub; their Cognito user is google_<id>)");
}

const WHERE =
  "The user is named by --email (looked up in the stack's Cognito user pool) or --sub (their Google user id). " +
  "The tables and the pool are the stack's (from the namePrefix in Pulumi.<stack>.yaml), in its region or --region; AWS_ENDPOINT_URL is honoured.";

export function registerUser(program: Command, ctx: Context) {
  const user = withExamples(
    program.command("user").description("A user's account data, for requests that arrive by email: show it, export it, delete it"),
    ["user show --email kumu@example.com", "user export --sub 109876543210987654321 --out export.json", "user delete --email kumu@example.com"],
  );

  async function target(opts: Who) {
    const settings = stackSettings(opts.stack);
    const { checkSelector, resolveTarget, userDeps } = await import("../actions/user");
    checkSelector(opts);
    noteEndpoint(ctx);
    const deps = userDeps(settings.region);
    const t = await ctx.ui.spin("Finding the user…", () => resolveTarget(deps, settings, opts));
    return { deps, target: t };
  }

  withExamples(
    whoOptions(
      user
        .command("show")
        .summary("the Cognito user and how many pieces and sessions they have")
        .description(`The user's Cognito user (email, name, status), and the counts of their pieces, tombstones and sessions. Exits 1 when nothing is found.\n\n${WHERE}`),
    ),
    ["user show --email kumu@example.com", "user show --sub 109876543210987654321 --stack dev --json"],
  ).action(async (opts: Who) => {
    const { deps, target: t } = await target(opts);
    const { showUser, renderUserShow } = await import("../actions/user");
    const result = await ctx.ui.spin("Counting the user's data…", () => showUser(deps, t));
    emit(ctx, undefined, result, renderUserShow);
  });

  withExamples(
    whoOptions(
      user
        .command("export")
        .summary("the user's data, as the app's Export my data gives it")
        .description(
          "The export document GET /users/{userId}/export gives (every piece as the sync API sends it, every session, " +
            "formatVersion and exportedAt), on stdout, or written to --out (then a summary on stdout, JSON with --json). " +
            `Exits 1 when there is nothing to export.\n\n${WHERE}`,
        )
        .option("--out <file>", "write the document to this file (created with mode 600) instead of stdout"),
    ),
    ["user export --email kumu@example.com --out kumu.json", "user export --sub 109876543210987654321 > export.json"],
  ).action(async (opts: Who & { out?: string }) => {
    const { deps, target: t } = await target(opts);
    const { exportUser, writeExport, renderUserExport } = await import("../actions/user");
    const built = await ctx.ui.spin("Reading the user's data…", () => exportUser(deps, t));
    if (opts.out) return emit(ctx, undefined, writeExport(built, t, opts.out), renderUserExport);
    // The document itself is the result (JSON already, with or without --json).
    ctx.ui.print(built.json);
    ctx.ui.info(ctx.ui.err.dim(`${built.pieces} pieces and ${built.sessions} sessions of user ${t.userId}`));
  });

  withExamples(
    whoOptions(
      user
        .command("delete")
        .summary("delete the user's data and Cognito user, as the app's account deletion does")
        .description(
          "Shows what will be deleted (the Cognito user, the counts of pieces, tombstones and sessions) and asks before deleting " +
            "(--yes to skip; required when there is no terminal to ask on; --dry-run only shows). Then does what " +
            "DELETE /users/{userId} does: every piece, tombstone, session and the sync state, then the Cognito user. " +
            "Safe to run again: a deletion cut short is completed by the next run; nothing left to delete is not an error.\n\n" +
            WHERE,
        )
        .option("--dry-run", "show what would be deleted, delete nothing")
        .option(...YES_OPTION),
    ),
    ["user delete --email kumu@example.com", "user delete --sub 109876543210987654321 --dry-run", "user delete --sub 109876543210987654321 --yes --json"],
  ).action(async (opts: Who & { dryRun?: boolean; yes?: boolean }) => {
    const { deps, target: t } = await target(opts);
    const { deleteUser, planUserDeletion, renderDeletionPlan, renderUserDelete } = await import("../actions/user");
    const plan = await ctx.ui.spin("Counting the user's data…", () => planUserDeletion(deps, t));
    if (opts.dryRun || plan.nothingToDelete) {
      if (!ctx.globals.json && !plan.nothingToDelete) ctx.ui.print(renderDeletionPlan(t, plan, ctx.ui.out));
      return emit(ctx, undefined, await deleteUser(deps, t, plan, true), renderUserDelete);
    }
    await confirm(ctx, {
      yes: opts.yes,
      plan: renderDeletionPlan(t, plan, ctx.ui.err),
      question: `Delete user ${t.userId} and all their data from stack ${t.stack}?`,
    });
    const result = await ctx.ui.spin("Deleting…", () => deleteUser(deps, t, plan, false));
    emit(ctx, undefined, result, renderUserDelete);
  });
}
