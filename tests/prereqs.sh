#!/bin/sh
# What `make test` needs besides Python 3.11+ and make, checked in its first second:
# headless Chromium (tests/browser/), git, ssh-keygen and gpg (the Git-source and pre-commit tests),
# kubectl and systemd-analyze (deploy/ verified),
# curl (the documentation's shell sessions, tests/docs/). As root with apt-get (a fresh Debian
# or Ubuntu machine, a CI runner) the missing ones are installed; otherwise this stops with one
# line naming exactly what to install. `make test` and `.ci/run` call it first.
set -eu
PYTHON=${PYTHON:-python3}

say() { echo "make test: $*" >&2; }

if ! command -v "$PYTHON" >/dev/null 2>&1; then
    say "$PYTHON not found: install Python 3.11 or newer (or run make PYTHON=/path/to/python3.11)"
    exit 1
fi
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    say "$PYTHON is $("$PYTHON" -c 'import sys; print(sys.version.split()[0])'); Python 3.11 or newer is needed (make PYTHON=python3.12 test)"
    exit 1
fi

# Chromium: $CHROMIUM_BIN if set (it must then be an executable), else one of these on PATH
# (the same rule as tests/browser/chromium.py).
if [ -n "${CHROMIUM_BIN:-}" ] && [ ! -x "$CHROMIUM_BIN" ]; then
    say "CHROMIUM_BIN=$CHROMIUM_BIN is not an executable: point it at Chromium or Chrome, or unset it (apt-get install chromium)"
    exit 1
fi

missing=""   # Debian package names
if [ -z "${CHROMIUM_BIN:-}" ]; then
    found=""
    for name in chromium chromium-browser google-chrome google-chrome-stable chrome; do
        if command -v "$name" >/dev/null 2>&1; then found=$name; break; fi
    done
    [ -n "$found" ] || missing="$missing chromium"
fi
command -v git >/dev/null 2>&1 || missing="$missing git"
command -v ssh-keygen >/dev/null 2>&1 || missing="$missing openssh-client"
command -v curl >/dev/null 2>&1 || missing="$missing curl"
# gpg: signed-commit checks with a keyring; systemd-analyze and kubectl: deploy/ is verified
# (the instance unit, the Kustomize overlays). Debian's kubectl is in kubernetes-client.
command -v gpg >/dev/null 2>&1 || missing="$missing gnupg"
command -v systemd-analyze >/dev/null 2>&1 || missing="$missing systemd"
command -v kubectl >/dev/null 2>&1 || missing="$missing kubernetes-client"
# Debian splits venv/ensurepip out of python3 (the package python3-venv).
"$PYTHON" -c 'import ensurepip, venv' 2>/dev/null || missing="$missing python3-venv"

[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing$missing (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
    exit 0
fi
say "missing$missing: install with 'sudo apt-get install$missing' (or the same packages of your system; CHROMIUM_BIN may name a Chrome binary)"
exit 1
