"""The board's MCP server, driven by the official Python SDK (PyPI `mcp`) over Streamable HTTP
(POST /mcp) and over stdio (`mission-control-server mcp`), against the real server binary.

Each transport is driven by both of the SDK's clients: `ClientSession`, which negotiates a 2025
revision with `initialize`, and the default `mcp.Client`, which negotiates the 2026-07-28
revision (`server/discover`, no handshake, `resultType` and caching hints on results).

Every tool is called as an agent (Nova, with its own token); what it did is checked on the
REST API and in the event log. Bad arguments must be tool errors naming the field; no token
must be the documented 401. Prints "N passed, M failed" and exits non-zero on any failure.
"""

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import traceback
import urllib.error
import urllib.request
from contextlib import asynccontextmanager
from pathlib import Path

import httpx2
from mcp import Client, ClientSession, MCPError, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

ROOT = Path(__file__).resolve().parents[2]
ACTIONS = sorted([
    "create_task", "update_task", "move_task", "list_tasks", "get_task", "delete_task",
    "list_agents", "set_agent_status", "list_events", "heartbeat", "claim", "claim_next",
    "release", "complete", "comment", "list_comments",
])


def server_binary() -> str:
    if os.environ.get("MISSION_CONTROL_SERVER_BIN"):
        return os.environ["MISSION_CONTROL_SERVER_BIN"]
    target = os.environ.get("CARGO_TARGET_DIR") or str(
        Path.home() / ".cache/mission-control/target")
    return str(Path(target) / "debug" / "mission-control-server")


class Server:
    """The real server on a random port with a fresh database, signed in as the operator."""

    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="mc-py-mcp-")
        env = dict(os.environ, PORT="0", HOST="127.0.0.1",
                   DATABASE_PATH=str(Path(self.dir) / "mission-control.db"),
                   JWT_SECRET="python-mcp-test-secret-that-is-long-enough-0123456789",
                   ADMIN_USERNAME="patch", ADMIN_PASSWORD="python-test-password-123",
                   ADMIN_NAME="Patch", ADMIN_ROLE="Dev", RUST_LOG="warn",
                   DASHBOARD_DIR=str(Path(self.dir) / "no-dashboard"))
        self.process = subprocess.Popen([server_binary()], env=env, cwd=self.dir,
                                        stdout=subprocess.PIPE, stderr=sys.stderr, text=True)
        line = ""
        for _ in range(50):
            line = self.process.stdout.readline()
            found = re.search(r"listening on (http://\S+)", line)
            if found:
                self.url = found.group(1)
                break
        else:
            raise RuntimeError(f"the server did not start: {line}")
        status, body = self.rest("POST", "/api/auth/login",
                                 {"username": "patch", "password": "python-test-password-123"})
        assert status == 200, body
        self.token = body["token"]

    def rest(self, method, path, body=None, token=None):
        """A REST call: (status, JSON body)."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            request.add_header("content-type", "application/json")
        if token:
            request.add_header("authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def structured(result, name):
    assert not result.is_error, f"{name}: {result.content}"
    assert result.content[0].type == "text" and 0 < len(result.content[0].text) < 2000
    return result.structured_content


def error_of(result, name):
    assert result.is_error, f"{name} should fail: {result}"
    return json.loads(result.content[1].text)["error"], result.content[0].text


async def exercise(session: ClientSession | Client, server: Server, label: str) -> None:
    """Every tool, in a worker's order, checked on the REST API."""
    tools = (await session.list_tools()).tools
    assert sorted(t.name for t in tools) == ACTIONS, [t.name for t in tools]
    for tool in tools:
        assert tool.input_schema["type"] == "object", tool.name
        assert tool.output_schema["type"] == "object", tool.name

    async def call(name, **args):
        return structured(await session.call_tool(name, args), name)

    task = (await call("create_task", title=f"Python {label}", status="todo",
                       priority="high", idempotencyKey=f"py-{label}"))["task"]
    assert task["createdBy"] == "agent-nova", task
    again = (await call("create_task", title=f"Python {label}", status="todo",
                        priority="high", idempotencyKey=f"py-{label}"))["task"]
    assert again["id"] == task["id"], "a retry with the same key creates nothing"
    status, body = server.rest("GET", f"/api/tasks/{task['id']}", token=server.token)
    assert status == 200 and body["task"]["createdBy"] == "agent-nova", body

    updated = (await call("update_task", taskId=task["id"], description="Found in the logs",
                          version=task["version"]))["task"]
    assert updated["version"] == task["version"] + 1
    stale, _ = error_of(await session.call_tool(
        "move_task", {"taskId": task["id"], "newStatus": "done", "version": task["version"]}),
        "move_task")
    assert stale["code"] == "precondition_failed", stale
    moved = (await call("move_task", taskId=task["id"], newStatus="backlog"))["task"]
    assert moved["status"] == "backlog" and moved["updatedBy"] == "agent-nova"
    assert (await call("get_task", taskId=task["id"]))["task"]["status"] == "backlog"
    await call("move_task", taskId=task["id"], newStatus="todo")

    beat = await call("heartbeat", agentStatus="busy")
    assert beat["agent"]["id"] == "agent-nova" and beat["next"]["id"] == task["id"], beat
    claimed = (await call("claim_next", leaseSeconds=300))["task"]
    assert claimed["id"] == task["id"] and claimed["assignedAgent"] == "agent-nova"
    note = (await call("comment", taskId=task["id"], text="Halfway"))["comment"]
    assert note["author"] == "agent-nova"
    done = await call("complete", taskId=task["id"], note="Done and tested")
    assert done["task"]["status"] == "done" and done["comment"]["text"] == "Done and tested"
    notes = await call("list_comments", taskId=task["id"])
    assert [c["author"] for c in notes["comments"]] == ["agent-nova", "agent-nova"]

    other = (await call("create_task", title=f"Python other {label}", status="todo"))["task"]
    assert (await call("claim", taskId=other["id"]))["task"]["status"] == "in-progress"
    assert (await call("release", taskId=other["id"]))["task"]["assignedAgent"] is None
    assert (await call("claim_next", tag="no-task-has-this"))["task"] is None
    listed = await call("list_tasks", status="todo")
    assert other["id"] in [t["id"] for t in listed["tasks"]]
    assert any(a["id"] == "agent-nova" for a in (await call("list_agents"))["agents"])
    assert (await call("set_agent_status", agentId="agent-nova",
                       agentStatus="online"))["agent"]["status"] == "online"
    events = (await call("list_events", limit=50))["events"]
    assert any(e["agentId"] == "agent-nova" and "Nova completed" in e["message"]
               for e in events), [e["message"] for e in events]
    assert await call("delete_task", taskId=other["id"]) == {"deleted": other["id"]}
    assert server.rest("GET", f"/api/tasks/{other['id']}", token=server.token)[0] == 404

    # Resources.
    resources = (await session.list_resources()).resources
    assert [str(r.uri) for r in resources] == ["mission-control://board"]
    templates = (await session.list_resource_templates()).resource_templates
    assert [t.uri_template for t in templates] == ["mission-control://tasks/{id}"]
    board = json.loads((await session.read_resource("mission-control://board")).contents[0].text)
    assert any(t["id"] == task["id"] for t in board["tasks"])
    one = json.loads((await session.read_resource(
        f"mission-control://tasks/{task['id']}")).contents[0].text)
    assert one["task"]["status"] == "done" and len(one["comments"]) == 2
    try:
        await session.read_resource("mission-control://tasks/task-nope")
        raise AssertionError("reading an unknown task must fail")
    except MCPError as e:
        assert "no task" in str(e), e

    # Bad arguments: tool errors naming the field; nothing written.
    count = len(server.rest("GET", "/api/tasks", token=server.token)[1]["tasks"])
    for name, args, field in [
        ("create_task", {"title": 5}, "title"),
        ("create_task", {"title": "   "}, "title"),
        ("create_task", {"title": "x", "priority": "urgent"}, "priority"),
        ("move_task", {"taskId": task["id"], "newStatus": "archived"}, "newStatus"),
        ("claim", {"taskId": task["id"], "leaseSeconds": 0}, "leaseSeconds"),
        ("comment", {"taskId": task["id"]}, "text"),
    ]:
        error, text = error_of(await session.call_tool(name, args), name)
        assert error["code"] == "validation_failed", (name, args, text)
        assert error["details"][0]["field"] == field, (name, args, text)
        assert field in text, text
    assert len(server.rest("GET", "/api/tasks", token=server.token)[1]["tasks"]) == count


@asynccontextmanager
async def over_http(server: Server, token: str):
    """The Streamable HTTP transport to POST /mcp, with the agent's token."""
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    async with http:
        yield streamable_http_client(f"{server.url}/mcp", http_client=http)


@asynccontextmanager
async def over_stdio(server: Server, token: str):
    """The stdio transport to the bridge (`mission-control-server mcp`) to the same board."""
    yield stdio_client(StdioServerParameters(
        command=server_binary(), args=["mcp", "--url", server.url, "--token", token]))


async def with_2025_session(transport, server: Server, label: str) -> None:
    """`ClientSession`: the `initialize` handshake of the 2025 revisions."""
    async with transport as (read, write), ClientSession(read, write) as session:
        hello = await session.initialize()
        assert hello.protocol_version.startswith("2025-"), hello.protocol_version
        assert "heartbeat" in (hello.instructions or ""), hello.instructions
        await exercise(session, server, label)


async def with_2026_client(transport, server: Server, label: str) -> None:
    """The default `mcp.Client`: negotiates the newest revision, 2026-07-28."""
    async with Client(transport) as client:
        assert client.protocol_version == "2026-07-28", client.protocol_version
        assert "heartbeat" in (client.instructions or ""), client.instructions
        await exercise(client, server, label)


async def test_streamable_http_2025(server: Server, nova: str) -> None:
    async with over_http(server, nova) as transport:
        await with_2025_session(transport, server, "http-2025")


async def test_stdio_2025(server: Server, nova: str) -> None:
    async with over_stdio(server, nova) as transport:
        await with_2025_session(transport, server, "stdio-2025")


async def test_streamable_http_2026(server: Server, nova: str) -> None:
    async with over_http(server, nova) as transport:
        await with_2026_client(transport, server, "http-2026")


async def test_stdio_2026(server: Server, nova: str) -> None:
    async with over_stdio(server, nova) as transport:
        await with_2026_client(transport, server, "stdio-2026")


async def test_no_token_is_refused(server: Server, nova: str) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                       "clientInfo": {"name": "raw", "version": "1"}}}
    async with httpx2.AsyncClient() as http:
        response = await http.post(f"{server.url}/mcp", json=body, headers={
            "accept": "application/json, text/event-stream"})
        assert response.status_code == 401, response.status_code
        challenge = response.headers["www-authenticate"]
        found = re.match(r'Bearer resource_metadata="([^"]+)"', challenge)
        assert found and found.group(1).endswith("/.well-known/oauth-protected-resource"), challenge
        metadata = (await http.get(found.group(1))).json()
        assert metadata["resource"] == f"{server.url}/mcp", metadata
    # The SDK's own client, without a token, cannot get in either.
    refused = False
    try:
        async with streamable_http_client(f"{server.url}/mcp") as (read, write):
            async with ClientSession(read, write) as session:
                await asyncio.wait_for(session.initialize(), 10)
    except BaseException as e:  # the SDK raises from its task group
        refused = "401" in repr(e) or "nauthorized" in repr(e) or isinstance(e, BaseExceptionGroup)
    assert refused, "an unauthenticated session must not initialize"


async def main() -> int:
    server = Server()
    passed = failed = 0
    try:
        status, _ = server.rest("POST", "/api/agents",
                                {"id": "agent-nova", "name": "Nova", "role": "Research"},
                                server.token)
        assert status == 201
        status, minted = server.rest("POST", "/api/auth/tokens", {"agentId": "agent-nova"},
                                     server.token)
        assert status == 201, minted
        for test in (test_streamable_http_2025, test_stdio_2025, test_streamable_http_2026,
                     test_stdio_2026, test_no_token_is_refused):
            try:
                await asyncio.wait_for(test(server, minted["token"]), 60)
                passed += 1
                print(f"ok {test.__name__}")
            except BaseException:  # report and go on
                failed += 1
                print(f"FAILED {test.__name__}")
                traceback.print_exc()
    finally:
        server.stop()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
