"""Sign-in: the Cognito user pool, its web client and the role groups the app checks."""

from __future__ import annotations

from aws_cdk.assertions import Match, Template

from chalicelib.services.identity import ADMINS, MODERATORS
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
            "MfaConfiguration": "OPTIONAL",
            "UsernameAttributes": ["email"],
        },
    )


def test_the_web_client_has_no_secret_and_signs_in_with_srp(
    synth: Synth, template: Template
) -> None:
    (pool_id,) = synth.of_type("AWS::Cognito::UserPool")
    template.has_resource_properties(
        "AWS::Cognito::UserPoolClient",
        {
            "UserPoolId": {"Ref": pool_id},
            "GenerateSecret": False,
            "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            "PreventUserExistenceErrors": "ENABLED",
        },
    )


def test_the_role_groups_the_app_checks_exist(synth: Synth) -> None:
    (pool_id,) = synth.of_type("AWS::Cognito::UserPool")
    groups = {
        g["Properties"]["GroupName"]: g["Properties"]
        for g in synth.of_type("AWS::Cognito::UserPoolGroup").values()
    }
    assert set(groups) == {MODERATORS, ADMINS}
    assert all(g["UserPoolId"] == {"Ref": pool_id} for g in groups.values())
