// Lambda handler for POST /pieces (behind the Google-token authorizer).
import { piecesRoute, storeFromEnv } from "./core/routes";

export const handler = piecesRoute(storeFromEnv());
