// Lambda handler for POST /sessions (behind the Google-token authorizer).
import { sessionsRoute, storeFromEnv } from "./core/routes";

export const handler = sessionsRoute(storeFromEnv());
