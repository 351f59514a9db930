"""The role groups: Cognito user-pool groups, whose names reach the app in the access token's
`cognito:groups` claim (chalicelib/services/identity.py judges them). The infrastructure
declares these groups (infra/identity.py) and the local stack creates and grants the same ones.
"""

from __future__ import annotations

MODERATORS = "moderators"
ADMINS = "admins"
GROUPS = (MODERATORS, ADMINS)
