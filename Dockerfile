# vigil's container image: a build stage with the same CMake build as
# scripts/build.sh, and a runtime stage holding only vigil, the shared
# libraries it loads, the default rules (/etc/vigil/rules) and a default
# configuration (/etc/vigil/vigil.yaml).  No shell, no package manager.
#
#   buildah bud --build-arg VIGIL_COMMIT=$(git rev-parse --short=12 HEAD) -t vigil .
#
# The base is an ordinary Debian 12 image; tests/pkg/baseimage.sh makes one
# locally with debootstrap and tags it with this name.
ARG DEBIAN_IMAGE=docker.io/library/debian:bookworm

FROM ${DEBIAN_IMAGE} AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config clang bpftool \
      libbpf-dev libelf-dev zlib1g-dev libyaml-dev libcjson-dev libre2-dev \
      libwebsockets-dev libssl-dev ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
ARG VIGIL_COMMIT=unknown
ARG JOBS=2
# vmlinux.h comes from the build host's BTF: CO-RE relocates the programs
# to whatever kernel runs them
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVIGIL_COMMIT=${VIGIL_COMMIT} \
 && cmake --build /build -j${JOBS} --target vigil \
 && /build/vigil version \
 && scripts/image/rootfs.sh /build/vigil /src /rootfs

FROM scratch
COPY --from=build /rootfs/ /
# eBPF needs root (or the capabilities the chart's leastPrivilege mode grants)
USER 0:0
EXPOSE 8765
ENTRYPOINT ["/usr/bin/vigil"]
CMD ["run"]
