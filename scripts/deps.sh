#!/usr/bin/env bash
# Installs the Debian packages icelab needs that are missing; idempotent.
set -euo pipefail
packages=(
	build-essential pkg-config clang llvm libclang-rt-14-dev
	libssl-dev libevent-dev libpcap-dev libcmocka-dev libjansson-dev
	libidn-dev zlib1g-dev libnice-dev afl++ gcovr python3 xxd valgrind coturn
	iproute2 nftables chromium tshark rtpengine-daemon libsrtp2-dev
)
# rtpengine: the ice-lite suite's real SBC (conformance/tests/ice_lite_targets.sh)
packages+=(rtpengine-daemon)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#packages[@]} packages present"
	exit 0
fi
echo "deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: not root; install these with apt-get as root" >&2
	exit 2
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: installed ${#missing[@]} packages"
