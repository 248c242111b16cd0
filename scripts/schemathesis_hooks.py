"""How scripts/schemathesis.sh signs in to the server it tests, and the state a client holds.

Every operation gets the operator's bearer token, from POST /api/auth/login. Signing out
revokes the token it is sent with, so each POST /api/auth/logout gets a token of its own,
minted for the occasion: the rest of the run keeps a token that works.

Two headers carry state that a real client holds and a generator cannot know: an
`Idempotency-Key` is new for each new request (a client reuses one only to retry the same
request), and `If-Match` names the version the client last read. When a generated request
carries either, it gets a fresh key, and the task's current ETag, as a client would send them.
Nothing here changes how answers are judged.
"""

import os
import re
import threading
import uuid

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
            # A revoked operator token (the run revokes tokens too) is refused with 401, or
            # with 429 once the run's deliberately bad tokens have spent this address's
            # budget of failed authentications: either way, sign in again.
            if response.status_code not in (401, 429):
                break
        response.raise_for_status()
        return response.json()["token"]

    def set(self, case, data, context):
        _set_bearer(case, data)


_TASK_PATH = re.compile(r"^/api/tasks/([^/]+)$")


@schemathesis.hook
def before_call(context, case, kwargs):
    headers = case.headers or {}
    for name in list(headers):
        lowered = name.lower()
        if lowered == "idempotency-key":
            headers[name] = uuid.uuid4().hex
        elif lowered == "if-match":
            task = _TASK_PATH.match(case.formatted_path)
            if task is None:
                continue
            response = requests.get(
                f"{BASE_URL}/api/tasks/{task.group(1)}",
                headers={"Authorization": f"Bearer {operator_token()}"},
                timeout=TIMEOUT,
            )
            if response.status_code == 200 and "ETag" in response.headers:
                headers[name] = response.headers["ETag"]
    case.headers = headers
