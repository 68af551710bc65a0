#!/usr/bin/env bash
# Makes sure the real tools the tests use are on this machine (Debian packages).
# As root it installs what is missing with apt-get; otherwise it names the
# missing packages and fails, so `npm test` never half-runs.
set -euo pipefail

# command -> Debian package
declare -A TOOLS=(
  [zstd]=zstd          # zstd-compressed layers in tests
  [umoci]=umoci        # packs the Debian minbase test image into an OCI layout
  [debootstrap]=debootstrap
  [file]=file          # ground truth: which files are ELF
  [b3sum]=b3sum        # ground truth: BLAKE3 hashes
  [readelf]=binutils
  [busybox]=busybox-static           # a real stripped static binary for the lift tests
  # end-to-end tests of the registry proxy: real upstream, real clients
  [docker-registry]=docker-registry  # CNCF distribution 2.8, the upstream
  [htpasswd]=apache2-utils           # bcrypt htpasswd for distribution's Basic auth
  [openssl]=openssl                  # the token server's signing certificate
  [skopeo]=skopeo
  [containerd]=containerd            # with ctr
  [ctr]=containerd
  [podman]=podman                    # brings conmon, crun/runc and containers-common
  [dockerd]=docker.io                # with the docker CLI
)

missing=()
for cmd in "${!TOOLS[@]}"; do
  pkg=${TOOLS[$cmd]}
  command -v "$cmd" >/dev/null 2>&1 && continue
  [[ " ${missing[*]} " == *" $pkg "* ]] || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "megalift tests need these Debian packages: ${missing[*]}" >&2
  echo "install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing test tools: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# The tests start their own daemons on loopback ports with temp dirs: keep the
# packages' maintainer scripts from starting system-wide ones (policy-rc.d(8)).
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
