#!/usr/bin/env bash
# Downloads Debian's packaged cloud kernels for the kernel matrix and prints,
# one per line, "SUITE PACKAGE VERSION DIR" where DIR holds vmlinuz.
#   tests/kernels/fetch.sh [SUITE...]     (default: bullseye bookworm bookworm-backports)
# apt runs with a configuration of its own under the cache (sources list,
# lists, archives): the machine's apt sources are never touched.  Kernels
# are cached outside the repository keyed by package and version
# ($VIGIL_KERNEL_CACHE, default /var/cache/vigil-kernels/<package>_<version>/);
# when the mirror cannot be reached, the newest cached kernel of a suite is
# used.
set -euo pipefail
CACHE=${VIGIL_KERNEL_CACHE:-/var/cache/vigil-kernels}
SUITES=("$@")
[ ${#SUITES[@]} -gt 0 ] || SUITES=(bullseye bookworm bookworm-backports)
APTD=$CACHE/apt
mkdir -p "$APTD/lists/partial" "$APTD/cache/archives/partial" "$APTD/dl"

# the same mirror host the machine's own sources use
mirror=$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources \
  /etc/apt/sources.list.d/*.list 2>/dev/null | grep -oE 'https?://[^ ]+/debian/?( |$)' |
  grep -v security | head -1 | tr -d ' ' || true)
mirror=${mirror:-http://deb.debian.org/debian}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
{
  for s in "${SUITES[@]}"; do
    echo "deb [signed-by=$keyring] $mirror $s main"
  done
} >"$APTD/sources.list"

APT=(-o Dir::Etc::SourceList="$APTD/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o Dir::State::Lists="$APTD/lists" -o Dir::Cache="$APTD/cache"
  -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null
  -o APT::Get::List-Cleanup=0 -o Debug::NoLocking=1 -o APT::Sandbox::User=root -q)

online=1
apt-get "${APT[@]}" update >"$APTD/update.log" 2>&1 || {
  echo "fetch: apt-get update failed (see $APTD/update.log); using cached kernels" >&2
  online=0
}

# newest cached kernel recorded for a suite
cached() {
  local f=$CACHE/suite-$1
  [ -f "$f" ] && [ -f "$(awk '{print $3}' "$f")/vmlinuz" ] && cat "$f"
}

for s in "${SUITES[@]}"; do
  line=
  if [ $online = 1 ]; then
    # the cloud metapackage of this suite names the versioned image package
    meta_ver=$(apt-cache "${APT[@]}" madison linux-image-cloud-amd64 |
      awk -v s="$s" -F' *\\| *' '$3 ~ (" " s "/main") || $3 ~ (" " s " ") || $3 ~ (s "/main") {print $2; exit}')
    if [ -n "$meta_ver" ]; then
      (cd "$APTD/dl" && rm -f linux-image-cloud-amd64_*.deb &&
        apt-get "${APT[@]}" download "linux-image-cloud-amd64=$meta_ver" >/dev/null)
      dep=$(dpkg-deb -f "$APTD"/dl/linux-image-cloud-amd64_*.deb Depends |
        tr ',' '\n' | grep -oE 'linux-image-[0-9][^ ]*-cloud-amd64( \(= [^)]*\))?' | head -1)
      pkg=${dep%% *}
      ver=$(echo "$dep" | sed -n 's/.*(= \(.*\)).*/\1/p')
      [ -n "$ver" ] || ver=$(apt-cache "${APT[@]}" madison "$pkg" | awk -F' *\\| *' '{print $2; exit}')
      dir=$CACHE/${pkg}_${ver}
      if [ ! -f "$dir/vmlinuz" ]; then
        rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
        (cd "$dir.tmp" && apt-get "${APT[@]}" download "$pkg=$ver" >/dev/null)
        dpkg-deb --fsys-tarfile "$dir.tmp"/*.deb | tar -x -C "$dir.tmp" --wildcards './boot/vmlinuz-*'
        mv "$dir.tmp"/boot/vmlinuz-* "$dir.tmp/vmlinuz"
        rm -rf "$dir.tmp"/boot "$dir.tmp"/*.deb
        rm -rf "$dir" && mv "$dir.tmp" "$dir"
      fi
      line="$s $pkg $ver $dir"
      echo "$pkg $ver $dir" >"$CACHE/suite-$s"
    fi
  fi
  if [ -z "$line" ]; then
    c=$(cached "$s") || { echo "fetch: no kernel for suite $s (offline, nothing cached)" >&2; exit 1; }
    line="$s $c"
  fi
  echo "$line"
done
