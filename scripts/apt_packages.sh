# Sourced by the scripts that copy documents out of Debian packages (not run on its own).

# apt_install PACKAGE...: installs the packages with apt-get, non-interactively; needs root or
# password-less sudo. Stops the calling script when apt-get is missing.
apt_install() {
    if ! command -v apt-get >/dev/null; then
        echo "apt-get not found: install $* by hand" >&2
        exit 1
    fi
    local sudo=()
    if [[ ${EUID} -ne 0 ]]; then
        sudo=(sudo -n)  # never prompts: fails at once without password-less sudo
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$@"
}
