"""Create the local stack's AWS resources from the same definitions the app reads.

Tables come from the PynamoDB models (`chalicelib.models.TABLE_MODELS`), every other name from
`chalicelib.settings`. Safe to run again: what exists is left as it is.
"""

from __future__ import annotations

from typing import Any

import boto3

from local.config import REGION

POOL_NAME = "objektify-local"
CLIENT_NAME = "objektify-web"
GROUPS = ("moderators", "admins")


def create_tables() -> None:
    from chalicelib.models import TABLE_MODELS

    for model in TABLE_MODELS:
        if not model.exists():
            model.create_table(wait=True)


def ensure_user_pool(endpoint: str) -> tuple[str, str]:
    """The local Cognito user pool, its app client and groups: (pool id, client id)."""
    idp: Any = boto3.client("cognito-idp", endpoint_url=endpoint, region_name=REGION)
    pools = idp.list_user_pools(MaxResults=60)["UserPools"]
    pool_id = next((p["Id"] for p in pools if p["Name"] == POOL_NAME), None)
    if pool_id is None:
        pool_id = idp.create_user_pool(
            PoolName=POOL_NAME,
            Policies={"PasswordPolicy": {"MinimumLength": 12}},
        )["UserPool"]["Id"]
    clients = idp.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
    client_id = next((c["ClientId"] for c in clients if c["ClientName"] == CLIENT_NAME), None)
    if client_id is None:
        client_id = idp.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName=CLIENT_NAME,
            ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]
    existing = {g["GroupName"] for g in idp.list_groups(UserPoolId=pool_id)["Groups"]}
    for group in GROUPS:
        if group not in existing:
            idp.create_group(UserPoolId=pool_id, GroupName=group)
    return pool_id, client_id


def bootstrap(endpoint: str) -> tuple[str, str]:
    create_tables()
    return ensure_user_pool(endpoint)
