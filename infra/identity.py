"""Sign-in: a Cognito user pool, the web client's app client and the role groups.

The app verifies the pool's access tokens itself (chalicelib/adapters/token_verifier.py), so
what it needs from here is the issuer, the JWKS URL and the client ids (see `token_settings`).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from chalicelib.services.identity import ADMINS, MODERATORS
from infra.nag import acknowledge

# Lower precedence wins when a user is in both groups (it only matters for IAM role mapping).
GROUPS = ((ADMINS, 0, "Operators"), (MODERATORS, 1, "Content moderators"))


class Identity(Construct):
    def __init__(self, scope: Construct, id: str, stage: str) -> None:
        super().__init__(scope, id)
        self.pool = cognito.UserPool(
            self,
            "Users",
            user_pool_name=f"objektify-{stage}",
            self_sign_up_enabled=True,
            sign_in_aliases=cognito.SignInAliases(email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            # Cognito keeps the e-mail for sign-in; the app stores only the opaque `sub`.
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)
            ),
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
            ),
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(sms=False, otp=True),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            deletion_protection=True,
            # The accounts are people's: kept if the stack goes.
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        acknowledge(
            self.pool,
            "COG2",
            "Anyone may sign up to create images: TOTP MFA is offered to every user, not forced.",
        )
        acknowledge(
            self.pool,
            "COG8",
            "The Essentials plan: the Plus plan's threat protection is a cost decision for "
            "production; passwords are long and complex and tokens short-lived meanwhile.",
        )
        self.web_client = self.pool.add_client(
            "WebClient",
            user_pool_client_name="objektify-web",
            generate_secret=False,  # a browser cannot keep one
            auth_flows=cognito.AuthFlow(user_srp=True),
            prevent_user_existence_errors=True,
            access_token_validity=cdk.Duration.hours(1),
            id_token_validity=cdk.Duration.hours(1),
            refresh_token_validity=cdk.Duration.days(30),
            enable_token_revocation=True,
        )
        for name, precedence, description in GROUPS:
            cognito.CfnUserPoolGroup(
                self,
                f"{name.title()}Group",
                user_pool_id=self.pool.user_pool_id,
                group_name=name,
                precedence=precedence,
                description=description,
            )

    def token_settings(self) -> dict[str, str]:
        """The app's token verification settings (`OBJEKTIFY_COGNITO_*`), for this pool."""
        stack = cdk.Stack.of(self)
        issuer = f"https://cognito-idp.{stack.region}.{stack.url_suffix}/{self.pool.user_pool_id}"
        return {
            "cognito_issuer": issuer,
            "cognito_jwks_url": f"{issuer}/.well-known/jwks.json",
            "cognito_client_ids": self.web_client.user_pool_client_id,
            "cognito_user_pool_id": self.pool.user_pool_id,
        }
