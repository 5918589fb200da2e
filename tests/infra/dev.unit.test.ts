import { stackRules } from "./rules";

stackRules("dev");
