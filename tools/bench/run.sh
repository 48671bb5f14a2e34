#!/bin/sh
# Builds the kernel micro-benchmark with the same flags Package.swift gives CKernels and runs it.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${TMPDIR:-/tmp}/moeseg-kernel-bench
clang -O3 -fno-math-errno -D_GNU_SOURCE -I "$root/Sources/CKernels/include" \
    "$root"/Sources/CKernels/*.c "$root/tools/bench/kernel_bench.c" -lm -o "$out"
"$out"
