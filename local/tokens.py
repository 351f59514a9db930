"""Bearer tokens for local users, issued by the local Cognito user pool through the real
Cognito API (AdminInitiateAuth), so the app verifies them exactly as it does in AWS."""

from __future__ import annotations

import secrets
from typing import Any

import boto3

from chalicelib.roles import GROUPS
from local.config import StackState


def _client(state: StackState) -> Any:
    return boto3.client(
        "cognito-idp",
        endpoint_url=state.aws_endpoint,
        region_name=state.region,
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 (the emulator accepts any)
    )


def issue_token(state: StackState, username: str, groups: tuple[str, ...] = ()) -> str:
    """An access token for `username` (created if new) holding exactly `groups`."""
    unknown = set(groups) - set(GROUPS)
    if unknown:
        raise SystemExit(f"unknown group(s): {', '.join(sorted(unknown))}")
    idp = _client(state)
    pool = state.user_pool_id
    try:
        idp.admin_get_user(UserPoolId=pool, Username=username)
    except idp.exceptions.UserNotFoundException:
        idp.admin_create_user(UserPoolId=pool, Username=username, MessageAction="SUPPRESS")
    current = {
        g["GroupName"]
        for g in idp.admin_list_groups_for_user(UserPoolId=pool, Username=username)["Groups"]
    }
    for group in set(groups) - current:
        idp.admin_add_user_to_group(UserPoolId=pool, Username=username, GroupName=group)
    for group in current - set(groups):
        idp.admin_remove_user_from_group(UserPoolId=pool, Username=username, GroupName=group)
    password = secrets.token_urlsafe(18) + "aA1!"
    idp.admin_set_user_password(
        UserPoolId=pool, Username=username, Password=password, Permanent=True
    )
    result = idp.admin_initiate_auth(
        UserPoolId=pool,
        ClientId=state.client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )
    return str(result["AuthenticationResult"]["AccessToken"])
