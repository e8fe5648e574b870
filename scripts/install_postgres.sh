#!/usr/bin/env bash
# Installs the PostgreSQL server binaries that tests/bot/test_stores_postgres.py starts (Debian's postgresql).
# The tests run their own throw-away server on loopback: the cluster the package may create is not used.
# Idempotent and non-interactive; run as root.
set -euo pipefail

install_postgres() {
    if compgen -G "/usr/lib/postgresql/*/bin/initdb" > /dev/null; then
        echo "PostgreSQL already installed: $(compgen -G '/usr/lib/postgresql/*/bin/initdb' | tail -n 1)"
        return
    fi
    if [[ "$(id -u)" -ne 0 ]]; then
        echo "PostgreSQL not installed and apt needs root: the PostgreSQL tests will be skipped"
        return
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends postgresql
}

install_postgres
