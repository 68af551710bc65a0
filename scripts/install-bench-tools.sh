#!/usr/bin/env bash
# Makes sure the tools `npm run bench:lift` compares against are on this
# machine (Debian packages): musl-gcc for the native build, clang + wasi-libc
# for the straight-to-wasm build, qemu-user for the emulator column and the
# static busybox whose applets do the real work. Only the benchmark calls
# this; it is deliberately not part of `npm test` or CI.
set -euo pipefail

# command or file -> Debian package
declare -A TOOLS=(
  [musl-gcc]=musl-tools
  [clang-16]=clang-16
  [wasm-ld-16]=lld-16
  [/usr/lib/wasm32-wasi/libc.a]=wasi-libc
  [/usr/lib/llvm-16/lib/clang/16/lib/wasi/libclang_rt.builtins-wasm32.a]=libclang-rt-16-dev-wasm32
  [qemu-x86_64]=qemu-user
  [busybox]=busybox-static
)

missing=()
for tool in "${!TOOLS[@]}"; do
  pkg=${TOOLS[$tool]}
  if [[ $tool == /* ]]; then
    [ -e "$tool" ] && continue
  else
    command -v "$tool" >/dev/null 2>&1 && continue
  fi
  [[ " ${missing[*]} " == *" $pkg "* ]] || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "bench:lift needs these Debian packages: ${missing[*]}" >&2
  echo "install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing benchmark tools: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
