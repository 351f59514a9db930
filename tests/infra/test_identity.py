"""Sign-in: the Cognito user pool, its web client and the role groups the app checks."""

from __future__ import annotations

from aws_cdk.assertions import Match, Template

from chalicelib.roles import ADMINS, MODERATORS
from tests.infra.support import Synth


def test_the_user_pool_keeps_its_accounts_and_asks_for_strong_passwords(
    synth: Synth, template: Template
) -> None:
    ((_, pool),) = synth.of_type("AWS::Cognito::UserPool").items()
    assert pool["DeletionPolicy"] == "Retain"
    template.has_resource_properties(
        "AWS::Cognito::UserPool",
        {
            "DeletionProtection": "ACTIVE",
            "Policies": {
                "PasswordPolicy": Match.object_like(
                    {
                        "MinimumLength": 12,
                        "RequireLowercase": True,
                        "RequireUppercase": True,
                        "RequireNumbers": True,
                        "RequireSymbols": True,
                    }
                )
            },
            "UsernameAttributes": ["email"],
        },
    )


def test_every_sign_in_needs_a_second_factor_from_an_authenticator_app(synth: Synth) -> None:
    """Moderators and operators must use MFA; Cognito cannot require it per group, nor say
    in an access token whether a sign-in used it, so the whole pool requires it (TOTP only:
    no phone numbers, no SMS)."""
    ((_, pool),) = synth.of_type("AWS::Cognito::UserPool").items()
    props = pool["Properties"]
    assert props["MfaConfiguration"] == "ON"
    assert props["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    assert "SmsConfiguration" not in props


def test_the_web_client_is_public_and_signs_in_through_the_hosted_ui_with_a_code(
    synth: Synth,
) -> None:
    (pool_id,) = synth.of_type("AWS::Cognito::UserPool")
    (cdn_id,) = synth.of_type("AWS::CloudFront::Distribution")
    ((_, client),) = synth.of_type("AWS::Cognito::UserPoolClient").items()
    props = client["Properties"]
    site_url = {"Fn::Join": ["", ["https://", {"Fn::GetAtt": [cdn_id, "DomainName"]}, "/"]]}
    assert props["UserPoolId"] == {"Ref": pool_id}
    assert props.get("GenerateSecret", False) is False
    # The authorization-code grant only (the client adds PKCE); never implicit.
    assert props["AllowedOAuthFlows"] == ["code"]
    assert props["AllowedOAuthFlowsUserPoolClient"] is True
    assert props["AllowedOAuthScopes"] == ["openid"]
    assert props["SupportedIdentityProviders"] == ["COGNITO"]
    assert props["CallbackURLs"] == [site_url]
    assert props["LogoutURLs"] == [site_url]
    # No password or SRP sign-in around the hosted UI.
    assert props["ExplicitAuthFlows"] == ["ALLOW_REFRESH_TOKEN_AUTH"]
    assert props["PreventUserExistenceErrors"] == "ENABLED"


def test_the_web_clients_tokens_are_short_lived_and_revocable(synth: Synth) -> None:
    ((_, client),) = synth.of_type("AWS::Cognito::UserPoolClient").items()
    props = client["Properties"]
    minutes = {"minutes": 1, "hours": 60, "days": 1440}
    units = props["TokenValidityUnits"]
    assert props["AccessTokenValidity"] * minutes[units["AccessToken"]] <= 60
    assert props["IdTokenValidity"] * minutes[units["IdToken"]] <= 60
    assert props["RefreshTokenValidity"] * minutes[units["RefreshToken"]] <= 1440
    assert props["EnableTokenRevocation"] is True


def test_the_role_groups_the_app_checks_exist(synth: Synth) -> None:
    (pool_id,) = synth.of_type("AWS::Cognito::UserPool")
    groups = {
        g["Properties"]["GroupName"]: g["Properties"]
        for g in synth.of_type("AWS::Cognito::UserPoolGroup").values()
    }
    assert set(groups) == {MODERATORS, ADMINS}
    assert all(g["UserPoolId"] == {"Ref": pool_id} for g in groups.values())
