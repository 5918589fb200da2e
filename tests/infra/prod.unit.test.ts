import { opsRules } from "./ops-rules";
import { stackRules } from "./rules";

opsRules("prod", stackRules("prod"));
