#!/usr/bin/env bash
# Makes the virtual environment the API client tests run (tests/app/api_clients.rs): the public
# IT Glue clients, pinned, as users install them. Run from the repository root; idempotent.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/target/api-clients"
if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "itglue==0.2.0" "pytglue==1.0.2"
"$venv/bin/python" -c "import itglue, pytglue; print('api clients ready in $venv')"
