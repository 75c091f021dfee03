#!/usr/bin/env bash
# Makes a Docker engine and the connector's base image available, then (with `build`) builds the
# connector image. Idempotent and cached: a second run only checks (a few seconds).
#
#   bash scripts/docker_env.sh                  # engine + base image; last stdout line: BASE_IMAGE=<ref>
#   bash scripts/docker_env.sh build [TAG [docker build args]]
#                                               # ... then builds the image (default TAG
#                                               # airbyte/destination-milvus-zendesk:dev)
# Exit codes: 0 ok; 1 the image build failed; 3 no engine, BuildKit or base image can be had here.
#
# Engine: uses one that answers (`docker info`). Otherwise, as root, installs Debian's docker.io
# (and debootstrap) with apt-get where missing and starts
#   dockerd --storage-driver=vfs --iptables=false --ip-masq=false --bridge=none
# in the background (log: /var/log/dmz-dockerd.log). With --bridge=none there is no default
# network: builds use --network host, containers --network none or host.
#
# Base image: metadata.yaml's pinned airbyte/python-connector-base when it is present or can be
# pulled; otherwise (no Docker Hub) a stand-in built from its published definition
# (scripts/docker_base_standin.Dockerfile) on a Debian bookworm rootfs made with
# `debootstrap --variant=minbase` from the host's apt mirror and `docker import`. Both images are
# kept, so later runs reuse them.
#
# Builds use BuildKit (needed for RUN --mount=type=secret): the docker CLI when its buildx plugin
# is there, else the docker.io package's own CLI (/usr/bin/docker, BuildKit built in). The host's
# CA bundle (DMZ_PROXY_CA, default /etc/ssl/certs/ca-certificates.crt) is passed as the build
# secret `proxy_ca`, so pip inside the build trusts a TLS-intercepting proxy; it is in no layer.
set -euo pipefail
cd "$(dirname "$0")/.."

REAL_BASE=$(sed -n 's/^ *baseImage: *//p' metadata.yaml)
STANDIN=${DMZ_STANDIN_IMAGE:-dmz-local/python-connector-base-standin:4.0.2}
ROOTFS=${DMZ_ROOTFS_IMAGE:-dmz-local/debian-bookworm-minbase:latest}
PROXY_CA=${DMZ_PROXY_CA:-/etc/ssl/certs/ca-certificates.crt}
DOCKERD_LOG=${DMZ_DOCKERD_LOG:-/var/log/dmz-dockerd.log}

log() { echo "docker_env: $*" >&2; }
die() { echo "docker_env: $*" >&2; exit 3; }  # 3: this machine cannot provide it (tests skip on 3)
engine_answers() { timeout 20 docker info --format '{{.ServerVersion}}' >/dev/null 2>&1; }
have_image() { docker image inspect "$1" >/dev/null 2>&1; }

# --- 1. an engine --------------------------------------------------------------------------------
if ! engine_answers; then
  [ "$(id -u)" = 0 ] || die "no Docker engine answers and starting one needs root: start Docker, or rerun as root"
  missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]} with apt-get"
    apt-get update -qq >/dev/null || die "apt-get update failed: run it by hand to see why"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
      || die "apt-get install ${missing[*]} failed: run it by hand to see why"
  fi
  log "starting dockerd (vfs storage, no bridge), log in $DOCKERD_LOG"
  nohup dockerd --storage-driver=vfs --iptables=false --ip-masq=false --bridge=none >"$DOCKERD_LOG" 2>&1 &
  for _ in $(seq 60); do engine_answers && break; sleep 1; done
  engine_answers || die "dockerd did not answer within 60 s: see $DOCKERD_LOG"
fi

# --- 2. a BuildKit-capable build command ---------------------------------------------------------
if docker buildx version >/dev/null 2>&1; then
  BUILD=(docker build)
elif [ -x /usr/bin/docker ] && DOCKER_BUILDKIT=1 /usr/bin/docker build --help 2>/dev/null | grep -q -- '--secret'; then
  BUILD=(env DOCKER_BUILDKIT=1 /usr/bin/docker build)
else
  die "building needs BuildKit: install the docker-buildx plugin (or Debian's docker.io, whose CLI has it built in)"
fi
SECRET=()
[ -s "$PROXY_CA" ] && SECRET=(--secret "id=proxy_ca,src=$PROXY_CA")

# --- 3. the base image ---------------------------------------------------------------------------
debian_mirror() {
  [ -n "${DMZ_DEBIAN_MIRROR:-}" ] && { echo "$DMZ_DEBIAN_MIRROR"; return; }
  local m
  m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
      | grep -oE 'https?://[^ ]*/debian/?( |$)' | grep -v security | head -1 | tr -d ' ')
  echo "${m:-http://deb.debian.org/debian}"
}

build_rootfs() {
  command -v debootstrap >/dev/null || {
    [ "$(id -u)" = 0 ] || die "debootstrap is missing and installing it needs root: apt-get install debootstrap"
    apt-get update -qq >/dev/null || die "apt-get update failed: run it by hand to see why"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null \
      || die "apt-get install debootstrap failed: run it by hand to see why"
  }
  [ "$(id -u)" = 0 ] || die "debootstrap needs root: rerun as root"
  local mirror dir
  mirror=$(debian_mirror)
  dir=$(mktemp -d /var/tmp/dmz-rootfs.XXXXXX)
  chmod 0755 "$dir"  # it becomes the image's /: mktemp's 0700 would lock out non-root users
  trap 'rm -rf "$dir"' EXIT
  log "debootstrap --variant=minbase bookworm from $mirror (about a minute)"
  debootstrap --variant=minbase --include=adduser bookworm "$dir" "$mirror" >"$dir.log" 2>&1 \
    || { tail -5 "$dir.log" >&2; die "debootstrap failed: see $dir.log"; }
  rm -f "$dir.log"
  printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb %s-security bookworm-security main\n' \
    "$mirror" "$mirror" "${mirror%/}" >"$dir/etc/apt/sources.list"
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
  tar -C "$dir" -c . | docker import --change 'CMD ["bash"]' - "$ROOTFS" >/dev/null || die "docker import failed"
  rm -rf "$dir"; trap - EXIT
}

if [ -n "${DMZ_BASE_IMAGE:-}" ]; then
  BASE=$DMZ_BASE_IMAGE
elif have_image "$REAL_BASE" || { ! have_image "$STANDIN" && timeout 60 docker pull -q "$REAL_BASE" >/dev/null 2>&1; }; then
  BASE=$REAL_BASE
else
  BASE=$STANDIN
  have_image "$ROOTFS" || build_rootfs
  log "building the base stand-in $STANDIN (cached after the first time)"
  "${BUILD[@]}" -q --network host "${SECRET[@]}" --build-arg "ROOTFS=$ROOTFS" \
    -f scripts/docker_base_standin.Dockerfile -t "$STANDIN" scripts >/dev/null \
    || die "building the base stand-in failed: rerun \`${BUILD[*]} --network host --build-arg ROOTFS=$ROOTFS -f scripts/docker_base_standin.Dockerfile scripts\` to see why"
fi

if [ "${1:-}" = build ]; then
  TAG=${2:-airbyte/destination-milvus-zendesk:dev}
  shift $(( $# < 2 ? $# : 2 ))  # the rest goes to `docker build` (e.g. --no-cache)
  log "building $TAG on $BASE"
  "${BUILD[@]}" --network host "${SECRET[@]}" --build-arg "BASE_IMAGE=$BASE" -t "$TAG" "$@" . >&2 \
    || { echo "docker_env: building $TAG failed (output above)" >&2; exit 1; }
fi
echo "BASE_IMAGE=$BASE"
