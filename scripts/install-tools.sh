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
)

missing=()
for cmd in "${!TOOLS[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${TOOLS[$cmd]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "megalift tests need these Debian packages: ${missing[*]}" >&2
  echo "install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing test tools: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
