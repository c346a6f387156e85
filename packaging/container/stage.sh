#!/usr/bin/env bash
# Stages the root of the oidc-harness image (see Containerfile): a stripped copy of BINARY,
# the shared libraries `ldd` lists and the loader, the system's CA certificates, a passwd
# entry for the image's user, and an empty /state.
#
#   packaging/container/stage.sh target/release/oidc-harness target/container
#
# OUT is emptied first, so running it again gives the same tree.
set -euo pipefail

if [ "$#" -ne 2 ]; then
  echo "usage: $0 BINARY OUT" >&2
  exit 2
fi
binary=$1
out=$2
certs=/etc/ssl/certs/ca-certificates.crt
uid=65532

[ -x "$binary" ] || { echo "stage: $binary is not an executable" >&2; exit 1; }
[ -r "$certs" ] || { echo "stage: $certs is missing (apt-get install ca-certificates)" >&2; exit 1; }

rm -rf "$out"
root=$out/rootfs
mkdir -p "$root/usr/local/bin" "$root/etc/ssl/certs" "$out/state"

# The binary, stripped: the release profile keeps line tables for backtraces and profiles,
# which the image does not need: the stripped copy is a sixth of the size.
strip --strip-all -o "$root/usr/local/bin/oidc-harness" "$binary"
chmod 0755 "$root/usr/local/bin/oidc-harness"

# Every library ldd resolves, and the loader, each at the path ldd names, symlinks followed.
libraries=$(ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
if [ -z "$libraries" ]; then
  echo "stage: ldd lists no library for $binary" >&2
  exit 1
fi
for lib in $libraries; do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
if ldd "$binary" | grep -q 'not found'; then
  echo "stage: a library of $binary is missing: $(ldd "$binary" | grep 'not found')" >&2
  exit 1
fi

cp -L "$certs" "$root$certs"
printf 'root:x:0:0:root:/:/sbin/nologin\nnonroot:x:%s:%s:oidc-harness:/state:/sbin/nologin\n' \
  "$uid" "$uid" > "$root/etc/passwd"
printf 'root:x:0:\nnonroot:x:%s:\n' "$uid" > "$root/etc/group"
chmod 0644 "$root/etc/passwd" "$root/etc/group"
