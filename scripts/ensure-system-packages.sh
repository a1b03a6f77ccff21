#!/usr/bin/env bash
# Install the system packages named as arguments (default: postgresql), only those missing:
#   postgresql  a PostgreSQL server (initdb, pg_ctl, postgres) for the throwaway test server;
#   chromium    Debian's Chromium (/usr/bin/chromium) for browser tests.
# Safe to run again and again: when everything is present it changes nothing and returns at once.
# Set CXLENS_SKIP_POSTGRES=1 to leave PostgreSQL alone (its tests are then skipped as well).
set -euo pipefail

say() { printf 'ensure-system-packages: %s\n' "$*"; }

# Prints the directory holding the server binaries, if there is one.
postgres_bindir() {
    local candidates=() dir
    if command -v pg_config >/dev/null 2>&1; then
        dir="$(pg_config --bindir 2>/dev/null || true)"
        if [ -n "$dir" ]; then candidates+=("$dir"); fi
    fi
    for dir in /usr/lib/postgresql/*/bin; do
        if [ -d "$dir" ]; then candidates+=("$dir"); fi
    done
    for dir in ${candidates[@]+"${candidates[@]}"}; do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then
            printf '%s\n' "$dir"
            return 0
        fi
    done
    return 1
}

chromium_binary() {
    if [ -x /usr/bin/chromium ]; then printf '/usr/bin/chromium\n'; return 0; fi
    return 1
}

wanted=("$@")
if [ "${#wanted[@]}" -eq 0 ]; then wanted=(postgresql); fi
wants() { local w; for w in "${wanted[@]}"; do [ "$w" = "$1" ] && return 0; done; return 1; }
for w in "${wanted[@]}"; do
    case "$w" in
        postgresql|chromium) ;;
        *) say "unknown package '$w' (known: postgresql, chromium)"; exit 2 ;;
    esac
done

missing=()
if ! wants postgresql; then
    :
elif [ "${CXLENS_SKIP_POSTGRES:-}" = "1" ]; then
    say "PostgreSQL: not checked (CXLENS_SKIP_POSTGRES=1)"
elif dir="$(postgres_bindir)"; then
    say "PostgreSQL: present ($dir)"
else
    say "PostgreSQL: server binaries missing"
    missing+=(postgresql)
fi
if ! wants chromium; then
    :
elif bin="$(chromium_binary)"; then
    say "Chromium: present ($bin)"
else
    say "Chromium: missing"
    missing+=(chromium)
fi

if [ "${#missing[@]}" -eq 0 ]; then
    say "nothing to install"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    say "cannot install ${missing[*]}: apt-get not found (this script knows Debian and Ubuntu);" \
        "install them with your system's package manager"
    exit 1
fi
as_root=()
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
        say "cannot install ${missing[*]}: not root and sudo not found"
        exit 1
    fi
    as_root=(sudo)
fi

say "installing: ${missing[*]}"
${as_root[@]+"${as_root[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get update -q
${as_root[@]+"${as_root[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    --no-install-recommends "${missing[@]}"

still_missing=()
for package in "${missing[@]}"; do
    case "$package" in
        postgresql)
            if dir="$(postgres_bindir)"; then
                say "installed PostgreSQL ($dir)"
            else
                still_missing+=("PostgreSQL server binaries")
            fi ;;
        chromium)
            if bin="$(chromium_binary)"; then
                say "installed Chromium ($bin)"
            else
                still_missing+=("/usr/bin/chromium")
            fi ;;
    esac
done
if [ "${#still_missing[@]}" -ne 0 ]; then
    say "apt-get finished but these are still missing: ${still_missing[*]}"
    exit 1
fi
