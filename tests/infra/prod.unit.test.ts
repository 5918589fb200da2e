import { stackRules } from "./rules";

stackRules("prod");
