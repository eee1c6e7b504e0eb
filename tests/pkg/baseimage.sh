#!/usr/bin/env bash
# Builds the Dockerfile's base image locally with debootstrap, so that the
# image build needs no registry: a minimal Debian SUITE rootfs, cached as a
# tarball outside the repo (keyed by suite), imported into buildah's storage
# and tagged with the name the Dockerfile's FROM uses.
#
#   tests/pkg/baseimage.sh [SUITE] [TAG]
#     SUITE  default bookworm
#     TAG    default docker.io/library/debian:SUITE
#   VIGIL_TOOLS_CACHE  cache root (default /var/cache/vigil-tools)
#   VIGIL_DEBIAN_MIRROR  default http://deb.debian.org/debian
set -euo pipefail

suite=${1:-bookworm}
tag=${2:-docker.io/library/debian:$suite}
cache=${VIGIL_TOOLS_CACHE:-/var/cache/vigil-tools}/debootstrap-$suite
mirror=${VIGIL_DEBIAN_MIRROR:-http://deb.debian.org/debian}
tarball=$cache/rootfs.tar

log() { echo "baseimage: $*" >&2; }

if [[ ! -s $tarball ]]; then
	command -v debootstrap >/dev/null || {
		echo "baseimage: debootstrap missing (scripts/deps.sh)" >&2
		exit 1
	}
	mkdir -p "$cache"
	tmp=$(mktemp -d "$cache/rootfs.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	log "debootstrap $suite (minbase) from $mirror (minutes, once)"
	debootstrap --variant=minbase "$suite" "$tmp" "$mirror" >"$cache/debootstrap.log" 2>&1 || {
		tail -20 "$cache/debootstrap.log" >&2
		exit 1
	}
	# what an official image has: the same sources, no package caches
	rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/lib/apt/lists/*
	tar -C "$tmp" --numeric-owner -cf "$tarball.part" .
	mv "$tarball.part" "$tarball"
	rm -rf "$tmp"
	trap - EXIT
	log "cached $tarball ($(du -h "$tarball" | cut -f1))"
fi

if buildah inspect --type image "$tag" >/dev/null 2>&1; then
	log "$tag present"
	exit 0
fi
ctr=$(buildah from scratch)
trap 'buildah rm "$ctr" >/dev/null 2>&1 || true' EXIT
buildah add "$ctr" "$tarball" / >/dev/null
buildah config --cmd /bin/bash --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$ctr"
buildah commit --quiet "$ctr" "$tag" >/dev/null
log "tagged $tag"
