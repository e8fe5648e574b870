#!/usr/bin/env bash
# Copies a real French test corpus into a folder: Debian's reference manual (package
# debian-reference-fr), its 265-page PDF and its HTML chapters. Large-document tests use it.
# Idempotent and non-interactive; installing the package needs root.
# Usage: scripts/fetch_debian_reference.sh [folder]   (default data/corpora/debian-reference/)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="${1:-${REPO_ROOT}/data/corpora/debian-reference}"
SOURCE="/usr/share/debian-reference"
PDF="${SOURCE}/debian-reference.fr.pdf"

# shellcheck source=apt_packages.sh
source "${REPO_ROOT}/scripts/apt_packages.sh"

install_package() {
    if [[ -f "${PDF}" ]]; then
        echo "debian-reference-fr already installed: ${SOURCE}"
        return
    fi
    apt_install debian-reference-fr
}

copy_documents() {
    mkdir -p "${TARGET}"
    cp -u "${PDF}" "${SOURCE}"/*.fr.html "${TARGET}/"
    echo "$(find "${TARGET}" -maxdepth 1 -type f | wc -l) files in ${TARGET}"
}

install_package
copy_documents
