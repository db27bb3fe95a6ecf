#!/usr/bin/env bash
# The GPU kit's entry on a GPU machine (bench/gpu/README.md): from the repository root,
#   bash .gpu-kit/run.sh [--quick] [--allow-software]
# unpacks the Vulkan/EGL loaders if the machine lacks them, points them at NVIDIA's driver files,
# finds or unpacks Node, and runs bench.mjs, which writes gpu-bench.json to $OUT (else the kit's out/).
set -euo pipefail
kit="$(cd "$(dirname "$0")" && pwd)"

if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1'; then
  if [ "$(id -u)" = 0 ] && compgen -G "$kit/debs/*.deb" >/dev/null; then
    for f in "$kit"/debs/*.deb; do dpkg -x "$f" /; done
    ldconfig
  else
    echo "run.sh: no Vulkan loader here and none to unpack (needs root and the kit's debs/)" >&2
  fi
fi
# dawn.node opens libEGL.so (the development name): point it at the runtime library.
for dir in /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu; do
  if [ -e "$dir/libEGL.so.1" ] && [ ! -e "$dir/libEGL.so" ] && [ -w "$dir" ]; then ln -s libEGL.so.1 "$dir/libEGL.so"; fi
done
nvidia=/usr/local/nvidia/share
if [ -e "$nvidia/vulkan/icd.d/nvidia_icd.json" ]; then export VK_DRIVER_FILES="$nvidia/vulkan/icd.d/nvidia_icd.json"; fi
if [ -e "$nvidia/glvnd/egl_vendor.d/10_nvidia.json" ]; then
  export __EGL_VENDOR_LIBRARY_FILENAMES="$nvidia/glvnd/egl_vendor.d/10_nvidia.json"
fi

node=node
if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  [ -e "$kit/node.xz" ] || { echo "run.sh: no Node >= 20 here and no node.xz in the kit" >&2; exit 1; }
  node="$kit/.node"
  [ -x "$node" ] || { xz -dc "$kit/node.xz" > "$node"; chmod +x "$node"; }
fi
"$node" --version
command -v nvidia-smi >/dev/null && nvidia-smi -L || true

out="${OUT:-$kit/out}"
mkdir -p "$out"
"$node" "$kit/bench.mjs" --out "$out/gpu-bench.json" "$@"
