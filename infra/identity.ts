// Owns Cognito: the user pool auth-sync fills with `google_<sub>` users, and the
// identity pool the app federates its Google sign-in into. The identity pool's
// role grants nothing: every data call goes through the API and its authorizer.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { GOOGLE_LOGIN_PROVIDER } from "../lib/google";

export interface IdentityArgs {
  userPoolName: string;
  identityPoolName: string;
  /** Name of the identity pool's authenticated role. */
  authenticatedRoleName: string;
  /** The Google OAuth client ID whose tokens the identity pool accepts. */
  googleClientId: string;
  /** Pulumi `protect` and `retainOnDelete`, and Cognito deletion protection, on the user pool. */
  protectData: boolean;
}

export class Identity extends pulumi.ComponentResource {
  readonly userPool: aws.cognito.UserPool;
  readonly identityPool: aws.cognito.IdentityPool;
  readonly authenticatedRole: aws.iam.Role;

  constructor(name: string, args: IdentityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("haumana:infra:Identity", name, {}, opts);

    this.userPool = new aws.cognito.UserPool(
      "users",
      {
        name: args.userPoolName,
        schemas: [
          {
            name: "email",
            attributeDataType: "String",
            required: true,
            // Mutable, so auth-sync can follow a Google account's changed email.
            // Cognito cannot change this once the pool exists.
            mutable: true,
            // Cognito's defaults, spelled out: omitting them makes a perpetual diff.
            stringAttributeConstraints: { minLength: "0", maxLength: "2048" },
          },
        ],
        // No self sign-up: auth-sync creates each user after verifying a Google token.
        adminCreateUserConfig: { allowAdminCreateUserOnly: true },
        deletionProtection: args.protectData ? "ACTIVE" : "INACTIVE",
        // Nothing here needs Essentials (the default for new pools); Lite is the
        // cheaper plan once past the free 10,000 monthly active users.
        userPoolTier: "LITE",
      },
      // The pool maps Google accounts to the user ids the data is keyed by.
      // retainOnDelete: should the pool leave the program (or the stack be
      // destroyed after unprotecting), Pulumi forgets it instead of deleting it.
      { parent: this, protect: args.protectData, retainOnDelete: args.protectData },
    );

    this.identityPool = new aws.cognito.IdentityPool(
      "identity",
      {
        identityPoolName: args.identityPoolName,
        allowUnauthenticatedIdentities: false,
        allowClassicFlow: false,
        supportedLoginProviders: { [GOOGLE_LOGIN_PROVIDER]: args.googleClientId },
      },
      { parent: this },
    );

    this.authenticatedRole = new aws.iam.Role(
      "identity-authenticated",
      {
        name: args.authenticatedRoleName,
        assumeRolePolicy: this.identityPool.id.apply((poolId) =>
          JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Allow",
                Principal: { Federated: "cognito-identity.amazonaws.com" },
                Action: "sts:AssumeRoleWithWebIdentity",
                Condition: {
                  StringEquals: { "cognito-identity.amazonaws.com:aud": poolId },
                  "ForAnyValue:StringLike": { "cognito-identity.amazonaws.com:amr": "authenticated" },
                },
              },
            ],
          }),
        ),
      },
      { parent: this },
    );

    new aws.cognito.IdentityPoolRoleAttachment(
      "identity-roles",
      { identityPoolId: this.identityPool.id, roles: { authenticated: this.authenticatedRole.arn } },
      { parent: this },
    );

    this.registerOutputs({ userPoolId: this.userPool.id, identityPoolId: this.identityPool.id });
  }
}
