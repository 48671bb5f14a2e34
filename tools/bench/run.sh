#!/bin/sh
# Builds the kernel micro-benchmark with the same flags Package.swift gives CKernels and runs it
# (`run.sh gemm` runs only the GEMM shapes, `run.sh mixture` only the fused mixture pass). OpenBLAS is linked for the GEMM comparison.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${TMPDIR:-/tmp}/moeseg-kernel-bench
clang -O3 -fno-math-errno -D_GNU_SOURCE -I "$root/Sources/CKernels/include" -I "$root/Sources/CKernels" \
    $(pkg-config --cflags openblas) "$root"/Sources/CKernels/*.c "$root/tools/bench/kernel_bench.c" \
    $(pkg-config --libs openblas) -lm -o "$out"
"$out" "$@"
