"""The Cognito user pool's admin API: the sign-in account behind a user id, and its groups.

A user id is the access token's `sub`; the pool's username may differ (locally it does), so
an account is found by a `ListUsers` filter on `sub`. No rules here: what a group allows is
decided in chalicelib/services/identity.py.
"""

from __future__ import annotations

import contextlib

from chalicelib.adapters.aws import client

# A `sub` is a UUID; anything that could end or extend the filter's quoted value is no `sub`.
_FILTER_BREAKERS = frozenset('"\\\n\r')


def username_of(pool_id: str, user_id: str) -> str | None:
    """The pool's username of the account whose `sub` is `user_id`; None if there is none."""
    if not user_id or _FILTER_BREAKERS & set(user_id):
        return None
    found = client("cognito-idp").list_users(
        UserPoolId=pool_id, Filter=f'sub = "{user_id}"', Limit=1
    )["Users"]
    return str(found[0]["Username"]) if found else None


def groups_of(pool_id: str, username: str) -> frozenset[str]:
    """The names of the groups the account belongs to (every page)."""
    idp = client("cognito-idp")
    names: set[str] = set()
    request = {"UserPoolId": pool_id, "Username": username}
    while True:
        try:
            answer = idp.admin_list_groups_for_user(**request)
        except idp.exceptions.UserNotFoundException:
            return frozenset()  # deleted since it was found
        names.update(str(group["GroupName"]) for group in answer.get("Groups", []))
        if not answer.get("NextToken"):
            return frozenset(names)
        request["NextToken"] = answer["NextToken"]


def delete_account(pool_id: str, user_id: str) -> None:
    """Delete the account whose `sub` is `user_id`, if there is one (safe to repeat)."""
    username = username_of(pool_id, user_id)
    if username is None:
        return
    idp = client("cognito-idp")
    with contextlib.suppress(idp.exceptions.UserNotFoundException):  # deleted since it was found
        idp.admin_delete_user(UserPoolId=pool_id, Username=username)
