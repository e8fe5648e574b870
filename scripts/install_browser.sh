#!/usr/bin/env bash
# Installs what the browser tests need: Debian's chromium and axe-core (pinned in tests/ui).
# Idempotent and non-interactive; run as root.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
UI_TESTS="${REPO_ROOT}/tests/ui"
CHROMIUM="/usr/bin/chromium"

install_chromium() {
    if [[ -x "${CHROMIUM}" ]]; then
        echo "chromium already installed: ${CHROMIUM}"
        return
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends chromium fonts-dejavu-core fonts-noto-color-emoji
}

# npm writes a copy of the lockfile inside node_modules; equal files mean it is up to date.
node_modules_up_to_date() {
    local hidden_lock="${UI_TESTS}/node_modules/.package-lock.json"
    [[ -f "${hidden_lock}" ]] || return 1
    node -e '
        const fs = require("fs");
        const [lockPath, hiddenPath] = process.argv.slice(1);
        const wanted = JSON.parse(fs.readFileSync(lockPath)).packages;
        const have = JSON.parse(fs.readFileSync(hiddenPath)).packages;
        const names = Object.keys(wanted).filter((name) => name !== "");
        const same = names.every((name) => have[name] && have[name].version === wanted[name].version);
        process.exit(same ? 0 : 1);
    ' "${UI_TESTS}/package-lock.json" "${hidden_lock}"
}

install_axe() {
    if node_modules_up_to_date; then
        echo "axe-core already installed in ${UI_TESTS}/node_modules"
        return
    fi
    (cd "${UI_TESTS}" && npm ci --no-audit --no-fund)
}

install_chromium
install_axe
