#!/usr/bin/env bash
# Copies the two extra evaluation corpora, real French documents from Debian, into data/corpora/:
#   debian-faq/  Debian's French FAQ (package debian-faq-fr), one HTML file per chapter
#   aptitude/    the French manual of aptitude (package aptitude-doc-fr), one HTML file per section
# Only the French files are kept (no images, stylesheets or other languages). The question sets
# eval/data/debian-faq/ and eval/data/aptitude/ were written against these exact versions.
# Idempotent and non-interactive; installing the packages needs root or password-less sudo.
# Usage: scripts/install_eval_corpora.sh [folder]   (default data/corpora/)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="${1:-${REPO_ROOT}/data/corpora}"
FAQ_SOURCE="/usr/share/doc/debian/FAQ/fr"
APTITUDE_SOURCE="/usr/share/doc/aptitude/html/fr"
PACKAGES=(debian-faq-fr aptitude-doc-fr)
started=${SECONDS}

# shellcheck source=apt_packages.sh
source "${REPO_ROOT}/scripts/apt_packages.sh"

install_packages() {
    if [[ -f "${FAQ_SOURCE}/index.fr.html" && -f "${APTITUDE_SOURCE}/index.html" ]]; then
        echo "${PACKAGES[*]} already installed"
        return
    fi
    apt_install "${PACKAGES[@]}"
}

# copy_html SOURCE DEST GLOB: the HTML files matching GLOB, nothing else; files no longer in SOURCE are removed.
copy_html() {
    local source="$1" dest="$2" glob="$3"
    mkdir -p "${dest}"
    find "${dest}" -maxdepth 1 -type f -name '*.html' | while read -r copied; do
        [[ -f "${source}/$(basename "${copied}")" ]] || rm -f "${copied}"
    done
    cp -p -u "${source}"/${glob} "${dest}/"
    echo "$(find "${dest}" -maxdepth 1 -type f | wc -l) files in ${dest}"
}

install_packages
copy_html "${FAQ_SOURCE}" "${TARGET}/debian-faq" "*.fr.html"
copy_html "${APTITUDE_SOURCE}" "${TARGET}/aptitude" "*.html"
echo "    eval corpora: $(( SECONDS - started )) s"
