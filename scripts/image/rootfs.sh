#!/usr/bin/env bash
# Lays out the runtime image's whole filesystem in OUT (run in the
# Dockerfile's build stage): the vigil binary, exactly the shared libraries
# it loads (with glibc's loader), the default rules and configuration, and
# no shell.  For each Debian package a file came from it keeps the
# package's dpkg status stanza in /var/lib/dpkg/status.d/ (where image
# scanners look in distroless images), its copyright file, and a line in
# /usr/share/vigil/packages.txt.
#
#   scripts/image/rootfs.sh BINARY SRC OUT
set -euo pipefail
bin=$1 src=$2 out=$3

mkdir -p "$out"/usr/bin "$out"/etc/vigil/rules "$out"/etc/vigil/rules.d "$out"/var/lib/dpkg/status.d \
	"$out"/usr/share/vigil "$out"/tmp "$out"/run
chmod 1777 "$out"/tmp
install -m 0755 "$bin" "$out"/usr/bin/vigil
strip --strip-debug "$out"/usr/bin/vigil

declare -A pkgs=()
owner() { # the package owning a path, also across the /usr merge
	local p=$1 r
	r=$(realpath "$p")
	for c in "$p" "$r" "${p#/usr}" "/usr$p" "${r#/usr}" "/usr$r"; do
		dpkg-query -S "$c" 2>/dev/null | sed -n '1s/:.*//p' | grep . && return 0
	done
	echo "rootfs: no package owns $p" >&2
	return 1
}
add_file() { # copy a file to the same path (symlinks resolved), note its package
	local f=$1
	mkdir -p "$out$(dirname "$f")"
	cp -L "$f" "$out$f"
	local p
	p=$(owner "$f")
	pkgs[${p%%:*}]=1
}

# what the dynamic loader maps, transitively; libgcc_s is dlopen()ed by
# glibc when a thread is cancelled or unwound
mapfile -t libs < <(ldd "$bin" | grep -o '/[^ ]*' | sort -u)
for f in "${libs[@]}" /lib/x86_64-linux-gnu/libgcc_s.so.1; do
	add_file "$f"
done
# the loader finds libraries through this cache (no /etc/ld.so.conf.d here)
ldconfig -r "$out" -C /etc/ld.so.cache /lib/x86_64-linux-gnu

# TLS to webhooks outside the cluster (the API server's CA comes with the
# service account); a generated file, owned by ca-certificates
if [ -s /etc/ssl/certs/ca-certificates.crt ]; then
	install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$out"/etc/ssl/certs/ca-certificates.crt
	pkgs[ca-certificates]=1
	# where OpenSSL's default verify paths look (SSL_CTX_set_default_verify_paths:
	# OPENSSLDIR/cert.pem, a link the openssl package ships and the image
	# has not): the syslog sink's TLS and the HTTP sink's keep-alive
	# client use them when no ca_file is set
	mkdir -p "$out"/usr/lib/ssl
	ln -sf /etc/ssl/certs/ca-certificates.crt "$out"/usr/lib/ssl/cert.pem
fi

# root's entries only: vigil runs as root and nothing logs in
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\n' >"$out"/etc/passwd
printf 'root:x:0:\n' >"$out"/etc/group

install -m 0644 "$src"/rules/*.yaml "$out"/etc/vigil/rules/
install -m 0644 "$src"/scripts/image/vigil.yaml "$out"/etc/vigil/vigil.yaml

: >"$out"/usr/share/vigil/packages.txt
for p in $(printf '%s\n' "${!pkgs[@]}" | sort); do
	dpkg-query -s "$p" >"$out/var/lib/dpkg/status.d/$p"
	dpkg-query -W -f='${Package} ${Version}\n' "$p" >>"$out"/usr/share/vigil/packages.txt
	if [ -f "/usr/share/doc/$p/copyright" ]; then
		install -D -m 0644 "/usr/share/doc/$p/copyright" "$out/usr/share/doc/$p/copyright"
	fi
done
echo "rootfs: $(wc -l <"$out"/usr/share/vigil/packages.txt) packages, $(du -sh "$out" | cut -f1)"
