// `haumana-ops migrate`: declaration only; the work is in cli/actions/migrate.ts.
import { Command } from "commander";
import { cognitoClient, dynamoDbClient, regionFor, stsClient } from "../aws";
import { confirm, Context, stackSettings } from "../context";
import { STACK_OPTION, withExamples, YES_OPTION } from "./help";
import { emit, noteEndpoint } from "./output";

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function registerMigrate(program: Command, ctx: Context) {
  withExamples(
    program
      .command("migrate")
      .summary("copy the old backend's pieces and sessions into the stack, then verify")
      .description(
        "Copies every piece and session of the old backend's tables into the stack's tables through the sync API's own " +
          "write path (the stack's versions, change index and sync state), then checks every user: counts and content of " +
          "pieces and sessions, old against new. Items whose owner is a Cognito sub are resolved to the Google sub through " +
          "--user-pool, or reported and not copied. Shows the plan and asks before writing (--yes when there is no terminal). " +
          "Idempotent: a run killed at any point is resumed by running it again, and a second run writes nothing. " +
          "Exits 1 when anything was not copied or differs (each one listed). Reads the old tables only.",
      )
      .option("--stack <name>", "Pulumi stack whose tables are written (their names from haumana:namePrefix in Pulumi.<stack>.yaml)", STACK_OPTION[2])
      .requiredOption("--from-pieces <table>", "the old backend's pieces table (userId/pieceId), e.g. haumana-pieces")
      .requiredOption("--from-sessions <table>", "the old backend's sessions table (pk/sk), e.g. haumana-sessions")
      .option("--user-pool <id>", "Cognito user pool to resolve Cognito subs in (the old haumana-users-v2), repeatable", collect)
      .option("--dry-run", "read everything and count what a run would write; write nothing")
      .option(...YES_OPTION),
    [
      "migrate --stack dev --from-pieces haumana-pieces --from-sessions haumana-sessions --user-pool us-west-2_Au01WZBqZ --dry-run",
      "migrate --from-pieces haumana-pieces --from-sessions haumana-sessions --user-pool us-west-2_Au01WZBqZ --yes --json",
    ],
  ).action(async (opts: { stack: string; fromPieces: string; fromSessions: string; userPool?: string[]; dryRun?: boolean; yes?: boolean }) => {
    const settings = stackSettings(opts.stack);
    noteEndpoint(ctx);
    const { migrate, renderMigrate, renderMigratePlan } = await import("../actions/migrate");
    const pools = opts.userPool ?? [];
    const result = await ctx.ui.spin("Starting…", (progress) =>
      migrate(
        {
          dynamodb: dynamoDbClient(settings.region),
          sts: stsClient(regionFor(settings.region)),
          cognito: pools.length ? cognitoClient(settings.region) : undefined,
          confirm: opts.yes
            ? undefined
            : (plan) =>
                confirm(ctx, {
                  yes: false,
                  plan: renderMigratePlan(plan, ctx.ui.err),
                  question: `Copy into ${plan.to.pieces} and ${plan.to.sessions} in account ${plan.account.account}?`,
                }),
          progress,
          info: (line) => ctx.ui.info(ctx.ui.err.dim(line)),
        },
        { settings, region: regionFor(settings.region), fromPieces: opts.fromPieces, fromSessions: opts.fromSessions, userPools: pools, dryRun: opts.dryRun },
      ),
    );
    emit(ctx, undefined, result, renderMigrate);
  });
}
