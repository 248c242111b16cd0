#!/usr/bin/env bash
# Runs the MCP tests with the official Python SDK (PyPI `mcp`) against the real server. The
# virtualenv is cached outside the clone, one per version of requirements.txt (every package
# pinned), and created when missing.
set -euo pipefail
cd "$(dirname "$0")"
pins=$(sha256sum requirements.txt | cut -c1-12)
venv="$HOME/.cache/mission-control/mcp-python-$pins"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import mcp' 2>/dev/null; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  timeout 300 "$venv/bin/pip" install --quiet --disable-pip-version-check -r requirements.txt
fi
exec timeout 300 "$venv/bin/python" test_mcp_client.py
