#!/bin/sh
# Builds the kernel micro-benchmark with the same flags Package.swift gives CKernels and runs it
# (`run.sh gemm` runs only the GEMM shapes, `run.sh mixture` only the fused mixture pass). OpenBLAS is linked for the GEMM comparison.
# `run.sh qkernels [gemm|dw]` builds and runs the int8 benchmark (qkernel_bench.c) instead.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${TMPDIR:-/tmp}/moeseg-kernel-bench
if [ "${1:-}" = qkernels ]; then
    shift
    clang -O3 -fno-math-errno -D_GNU_SOURCE -I "$root/Sources/CKernels/include" -I "$root/Sources/CKernels" \
        "$root"/Sources/CKernels/*.c "$root/tools/bench/qkernel_bench.c" -lm -o "$out-q"
    exec "$out-q" "$@"
fi
clang -O3 -fno-math-errno -D_GNU_SOURCE -I "$root/Sources/CKernels/include" -I "$root/Sources/CKernels" \
    $(pkg-config --cflags openblas) "$root"/Sources/CKernels/*.c "$root/tools/bench/kernel_bench.c" \
    $(pkg-config --libs openblas) -lm -o "$out"
"$out" "$@"
