// Every physical name one stack creates, whatever module makes the resource: the
// data and API resources' (lib/names.ts) and the ops resources' (lib/monitoring.ts).
// `haumana-ops preflight` checks exactly this list, and the infra tests hold the
// program to it, so a resource added with a new name must be added here.
import { alarmNames, opsNames } from "./monitoring";
import { deriveNames, physical, physicalNames, type PhysicalName, type PhysicalNameOptions } from "./names";

export interface StackNameOptions extends PhysicalNameOptions {
  /** haumana:manageApiGatewayAccount: the stack also makes the account's API Gateway CloudWatch role. */
  manageApiGatewayAccount?: boolean;
}

/** Unchecked against the live names (resourceNames() refuses those; preflight shows where they live). */
export function stackPhysicalNames(namePrefix: string, opts: StackNameOptions = {}): PhysicalName[] {
  const ops = opsNames(namePrefix);
  return [
    ...physicalNames(deriveNames(namePrefix), opts),
    physical("log-group", ops.accessLogGroup),
    ...(opts.manageApiGatewayAccount ? [physical("iam-role", ops.apiGatewayCloudWatchRole)] : []),
    physical("sns-topic", ops.alarmTopic),
    physical("cloudwatch-dashboard", ops.dashboard),
    ...alarmNames(namePrefix).map((name) => physical("cloudwatch-alarm", name)),
  ];
}
