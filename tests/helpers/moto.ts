// The moto_server launcher lives with the local tooling (local/moto.ts): the local
// server uses it for Cognito too.
export * from "../../local/moto";
