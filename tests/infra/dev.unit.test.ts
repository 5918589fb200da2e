import { opsRules } from "./ops-rules";
import { stackRules } from "./rules";

opsRules("dev", stackRules("dev"));
