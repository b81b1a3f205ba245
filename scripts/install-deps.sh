#!/bin/sh
# Install the Debian packages that cheval builds and tests with.
# As root it runs apt-get; otherwise it prints the command and exits 1.
set -u

PACKAGES="gcc make pkg-config libopenblas-dev libcjson-dev zlib1g-dev check libpcre2-dev libutf8proc-dev nettle-dev"

missing=""
for pkg in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $pkg"
    fi
done

if [ -z "$missing" ]; then
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "cheval: missing Debian packages:$missing" >&2
    echo "Install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y$missing" >&2
    exit 1
fi

echo "cheval: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2 || exit 1
apt-get install -y -qq $missing >&2 || exit 1
