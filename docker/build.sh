#!/usr/bin/env bash
# Builds the Trawl image from local files only: no base image is pulled.
#
# The image is `FROM scratch` and holds the `trawl` and `trawl-load` binaries,
# libonnxruntime, the default model, and the shared libraries `ldd` lists for
# them (the host's glibc, libstdc++, libgcc_s), at the paths the binaries expect.
#
#   docker/build.sh                 # setup + release build + image trawl:latest
#   TRAWL_IMAGE=trawl:dev docker/build.sh
#   TRAWL_BIN_DIR=target/debug docker/build.sh   # use already-built binaries, no cargo
#
# Environment:
#   TRAWL_IMAGE      image tag (default trawl:latest)
#   TRAWL_BIN_DIR    where the built binaries are; when set, nothing is compiled
#   TRAWL_MODEL_DIR  model directory to bake in (default models/all-minilm-l6-v2)
#   TRAWL_ORT_LIB    libonnxruntime to bake in (default vendor/onnxruntime/libonnxruntime.so.1.31.1)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

image=${TRAWL_IMAGE:-trawl:latest}
model_dir=${TRAWL_MODEL_DIR:-models/all-minilm-l6-v2}
ort_lib=${TRAWL_ORT_LIB:-vendor/onnxruntime/libonnxruntime.so.1.31.1}
say() { printf 'docker/build: %s\n' "$*"; }

command -v docker >/dev/null || { echo "docker/build: docker not found" >&2; exit 1; }
docker info >/dev/null 2>&1 || { echo "docker/build: no Docker engine answers (docker info failed)" >&2; exit 1; }

if [ -z "${TRAWL_BIN_DIR:-}" ]; then
  ./scripts/setup
  # Exactly `make run`'s build (RELEASE_BINS in the Makefile): the same
  # package set compiles the dependencies with the same features, so what
  # `make run` built is reused rather than compiled again.
  cargo build --release -p trawl-server -p trawl-client --bin trawl --bin trawl-load
  bin_dir=target/release
else
  bin_dir=$TRAWL_BIN_DIR
fi
for f in "$bin_dir/trawl" "$bin_dir/trawl-load" "$ort_lib" "$model_dir/model.onnx" "$model_dir/tokenizer.json" "$model_dir/trawl-model.json"; do
  [ -f "$f" ] || { echo "docker/build: $f missing (run ./scripts/setup and cargo build first)" >&2; exit 1; }
done

ctx=target/docker-context
rm -rf "$ctx"
mkdir -p "$ctx/rootfs/usr/local/bin" "$ctx/rootfs/opt/trawl/lib" "$ctx/rootfs/opt/trawl/model" "$ctx/rootfs/tmp" "$ctx/data"

# Binaries without their debug sections: a backtrace still names functions.
for b in trawl trawl-load; do
  objcopy --strip-debug "$bin_dir/$b" "$ctx/rootfs/usr/local/bin/$b"
done
cp "$ort_lib" "$ctx/rootfs/opt/trawl/lib/"
ort_name=$(basename "$ort_lib")
for f in model.onnx model_int8.onnx tokenizer.json trawl-model.json; do
  [ -f "$model_dir/$f" ] && cp "$model_dir/$f" "$ctx/rootfs/opt/trawl/model/"
done

# Every shared library the binaries and libonnxruntime need, with the dynamic loader.
libs=$(for f in "$ctx/rootfs/usr/local/bin/trawl" "$ctx/rootfs/usr/local/bin/trawl-load" "$ctx/rootfs/opt/trawl/lib/$ort_name"; do
  ldd "$f" | awk '/=> \// {print $3} /^\t\// {print $1}'
done | sort -u)
for lib in $libs; do
  real=$(readlink -f "$lib")
  mkdir -p "$ctx/rootfs$(dirname "$lib")"
  cp "$real" "$ctx/rootfs$lib"
done
# Name resolution (trawl-load reaching the `trawl` service) uses /etc/hosts and DNS.
mkdir -p "$ctx/rootfs/etc"
printf 'hosts: files dns\n' > "$ctx/rootfs/etc/nsswitch.conf"
printf 'root:x:0:0:root:/:/sbin/nologin\ntrawl:x:10001:10001:trawl:/data:/sbin/nologin\n' > "$ctx/rootfs/etc/passwd"
printf 'root:x:0:\ntrawl:x:10001:\n' > "$ctx/rootfs/etc/group"
chmod 1777 "$ctx/rootfs/tmp"

cp docker/Dockerfile "$ctx/Dockerfile"
say "building $image from $ctx ($(du -sh "$ctx" | cut -f1))"
DOCKER_BUILDKIT=0 docker build --quiet -t "$image" \
  --build-arg "ORT_LIB=/opt/trawl/lib/$ort_name" "$ctx" >/dev/null
size=$(docker image inspect "$image" --format '{{.Size}}')
say "built $image: $((size / 1024 / 1024)) MiB"
