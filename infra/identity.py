"""Sign-in: a Cognito user pool, its hosted sign-in pages, the web client's app client and the
role groups.

The web client (web/, served by CloudFront: infra/site.py) sends people to the hosted UI with
the authorization-code grant and PKCE and gets the code back at the site's root. The app
verifies the pool's access tokens itself (chalicelib/adapters/token_verifier.py), so what it
needs from here is the issuer, the JWKS URL and the client ids (see `token_settings`).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from chalicelib.roles import ADMINS, MODERATORS
from infra.config import DeployConfig
from infra.nag import acknowledge

# Lower precedence wins when a user is in both groups (it only matters for IAM role mapping).
GROUPS = ((ADMINS, 0, "Operators"), (MODERATORS, 1, "Content moderators"))
# What the web client asks for: the app reads only the access token's `sub`, `client_id` and
# `cognito:groups`; no e-mail, profile or phone scope, and no Cognito user API for the browser.
WEB_SCOPES = (cognito.OAuthScope.OPENID,)
# The web client keeps only the access token, in the tab's sessionStorage, and signs in again
# through the hosted UI (its own session lasts an hour) when it expires; it never uses the
# refresh token Cognito issues with a code, so that one lives no longer than a day.
WEB_TOKEN_VALIDITY = cdk.Duration.hours(1)
WEB_REFRESH_VALIDITY = cdk.Duration.days(1)


def hosted_ui_url(prefix: str, region: str) -> str:
    """The base URL Cognito gives a prefix domain (what `UserPoolDomain.base_url()` renders)."""
    return f"https://{prefix}.auth.{region}.amazoncognito.com"


class Identity(Construct):
    def __init__(self, scope: Construct, id: str, config: DeployConfig) -> None:
        super().__init__(scope, id)
        self.pool = cognito.UserPool(
            self,
            "Users",
            user_pool_name=f"objektify-{config.stage}",
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
            # Moderators and operators must sign in with a second factor, and Cognito can
            # neither require MFA per group nor tell the app (access tokens carry no `amr`)
            # whether a sign-in used one: so the whole pool requires it, from an authenticator
            # app (TOTP; no SMS: no phone numbers held, no SMS costs or SIM swaps). The cost:
            # every creator sets up an authenticator app at the sign-in after their first.
            mfa=cognito.Mfa.REQUIRED,
            mfa_second_factor=cognito.MfaSecondFactor(sms=False, otp=True),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            deletion_protection=True,
            # The accounts are people's: kept if the stack goes.
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        acknowledge(
            self.pool,
            "COG8",
            "The Essentials plan: the Plus plan's threat protection is a cost decision for "
            "production; passwords are long and complex and tokens short-lived meanwhile.",
        )
        # The hosted UI, on a Cognito prefix domain: unique per region across AWS, so the prefix
        # names the account as well as the stage.
        self.domain = self.pool.add_domain(
            "SignIn",
            cognito_domain=cognito.CognitoDomainOptions(domain_prefix=config.sign_in_domain_prefix),
        )
        self.hosted_ui_url = hosted_ui_url(config.sign_in_domain_prefix, config.region)
        self._web_client: cognito.UserPoolClient | None = None
        for name, precedence, description in GROUPS:
            cognito.CfnUserPoolGroup(
                self,
                f"{name.title()}Group",
                user_pool_id=self.pool.user_pool_id,
                group_name=name,
                precedence=precedence,
                description=description,
            )

    def add_web_client(self, site_url: str) -> cognito.UserPoolClient:
        """The web client's app client, signing in through the hosted UI and back to `site_url`.

        Public (a browser cannot keep a secret), so the authorization-code grant only, which the
        client makes with PKCE (S256); no implicit grant, which would hand tokens over in URLs,
        and no direct password or SRP sign-in, so every sign-in goes through the hosted UI.
        """
        self._web_client = self.pool.add_client(
            "WebClient",
            user_pool_client_name="objektify-web",
            generate_secret=False,
            auth_flows=cognito.AuthFlow(user_srp=False),  # refresh only
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=list(WEB_SCOPES),
                callback_urls=[site_url],
                logout_urls=[site_url],
            ),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            prevent_user_existence_errors=True,
            access_token_validity=WEB_TOKEN_VALIDITY,
            id_token_validity=WEB_TOKEN_VALIDITY,
            refresh_token_validity=WEB_REFRESH_VALIDITY,
            enable_token_revocation=True,
        )
        return self._web_client

    @property
    def web_client(self) -> cognito.UserPoolClient:
        if self._web_client is None:
            raise RuntimeError("add the web client first (it needs the site's URL)")
        return self._web_client

    @property
    def client_ids(self) -> list[str]:
        """Every app client whose access tokens the app accepts."""
        return [self.web_client.user_pool_client_id]

    def token_settings(self) -> dict[str, str]:
        """The app's token verification settings (`OBJEKTIFY_COGNITO_*`), for this pool."""
        stack = cdk.Stack.of(self)
        issuer = f"https://cognito-idp.{stack.region}.{stack.url_suffix}/{self.pool.user_pool_id}"
        return {
            "cognito_issuer": issuer,
            "cognito_jwks_url": f"{issuer}/.well-known/jwks.json",
            "cognito_client_ids": ",".join(self.client_ids),
            "cognito_user_pool_id": self.pool.user_pool_id,
        }
