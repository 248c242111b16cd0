"""How scripts/schemathesis.sh signs in to the server it tests.

Every operation gets the operator's bearer token, from POST /api/auth/login. Signing out
revokes the token it is sent with, so each POST /api/auth/logout gets a token of its own,
minted for the occasion: the rest of the run keeps a token that works. Nothing here changes
what is generated or how answers are judged.
"""

import os
import threading

import requests
import schemathesis

BASE_URL = os.environ["MC_URL"]
USERNAME = os.environ["MC_ADMIN_USERNAME"]
PASSWORD = os.environ["MC_ADMIN_PASSWORD"]
TIMEOUT = 10

_lock = threading.Lock()
_operator_token = None


def _sign_in():
    response = requests.post(
        f"{BASE_URL}/api/auth/login",
        json={"username": USERNAME, "password": PASSWORD},
        timeout=TIMEOUT,
    )
    response.raise_for_status()
    return response.json()["token"]


def operator_token(renew=False):
    global _operator_token
    with _lock:
        if renew or _operator_token is None:
            _operator_token = _sign_in()
        return _operator_token


def _set_bearer(case, token):
    case.headers = case.headers or {}
    case.headers["Authorization"] = f"Bearer {token}"


@schemathesis.auth().skip_for(operation_id="logout")
class OperatorToken:
    def get(self, case, context):
        return operator_token(renew=True)

    def set(self, case, data, context):
        _set_bearer(case, data)


@schemathesis.auth(refresh_interval=None).apply_to(operation_id="logout")
class TokenToRevoke:
    """A fresh agent token for the operator, for one sign-out to revoke."""

    def get(self, case, context):
        for renew in (False, True):
            response = requests.post(
                f"{BASE_URL}/api/auth/tokens",
                json={"agentId": f"agent-{USERNAME}", "expiresInDays": 1},
                headers={"Authorization": f"Bearer {operator_token(renew)}"},
                timeout=TIMEOUT,
            )
            if response.status_code != 401:
                break
        response.raise_for_status()
        return response.json()["token"]

    def set(self, case, data, context):
        _set_bearer(case, data)
