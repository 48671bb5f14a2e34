// Hot inference kernels that Swift cannot vectorise well. Every function has a portable
// scalar path and an AVX2+FMA path chosen at run time (see ck_cpu_features), so the binary
// runs on any x86-64 and on ARM. All tensors are fp32, one image, NCHW, C-contiguous.
// Range arguments ([c_begin, c_end), [row_begin, row_end)) let callers split work across
// their own threads; the kernels never start threads and never allocate. Empty ranges and
// non-positive sizes, strides or dilations make a call a no-op.
#ifndef CKERNELS_H
#define CKERNELS_H

#include <stddef.h>
#include <stdint.h>
#include "CKMemory.h"
#include "CKAffinity.h"
#include "CKMixtureTile.h"
#include "CKWindow.h"
#include "CKQuant.h"
#include "CKPreprocess.h"

#ifdef __cplusplus
extern "C" {
#endif

/// Bit set of CPU features the dispatcher found: 1 = AVX2 and FMA usable, 2 = AVX-512 F/DQ/BW/VL
/// usable, 4 = AVX-512 VNNI usable (only with 2), 8 = AVX-VNNI (VEX ymm vpdpbusd) usable (only
/// with 1). One dispatch table filled once from these bits picks the fp32 GEMM driver and every
/// int8 kernel (CKQuant.h); the other fp32 families follow its AVX2 / AVX-512 choice.
int ck_cpu_features(void);
/// Selects the dispatch mode: 0 forces the scalar paths, 1 is automatic dispatch, 2 automatic
/// dispatch without AVX-512 (the AVX2 paths, and AVX-VNNI for int8 where present), 3 AVX2 without
/// AVX-512 and without any VNNI (the plain AVX2 int8 paths); any other value means 1. Tests and
/// benchmarks use it to reach every path on one machine and compare them. Process-wide.
void ck_set_dispatch(int automatic);

/// Activation fused into a kernel's epilogue.
typedef enum {
    CK_ACT_NONE = 0,
    CK_ACT_RELU = 1,         // max(x, 0)
    CK_ACT_CLIP = 2,         // min(max(x, a), b)
    CK_ACT_HARDSWISH = 3,    // x * clip(x/6 + 0.5, 0, 1)
    CK_ACT_HARDSIGMOID = 4,  // clip(a*x + b, 0, 1)
    CK_ACT_SIGMOID = 5,      // 1 / (1 + exp(-x))
    CK_ACT_LEAKYRELU = 6     // x >= 0 ? x : a*x
} ck_act_kind;

typedef struct {
    int kind;   // ck_act_kind
    float a;
    float b;
} ck_activation;


/// Depthwise convolution (groups == channels, one filter per channel) for channels
/// [c_begin, c_end): out[c] = act(conv(in[c], weight[c]) + bias[c] (+ residual[c])).
/// weight is [C][kernel_h][kernel_w]; bias and residual may be NULL; residual has out's shape.
/// in, weight, bias, residual and out all point at channel 0 (channel c is read and written at
/// its own offset). residual may alias out (in-place residual add); in must not overlap out.
void ck_depthwise_conv2d(const float *in, const float *weight, const float *bias,
                         const float *residual, float *out, const ck_window *win,
                         int c_begin, int c_end, ck_activation act);

/// im2col for rows [row_begin, row_end) of the column matrix, whose rows are
/// (c, kh, kw) in that order (row = (c*kernel_h + kh)*kernel_w + kw) and whose columns are
/// output pixels (oh*out_w + ow). Out-of-image taps are 0. col has out_h*out_w columns and
/// points at row 0: row r is written at col + r*out_h*out_w; other rows are left untouched.
void ck_im2col(const float *in, float *col, const ck_window *win, int row_begin, int row_end);

/// In-place epilogue for channels [c_begin, c_end) of a [C][spatial] buffer:
/// x = act(x + bias[c] (+ residual[c][i])). bias and residual may be NULL.
void ck_bias_activation(float *data, int spatial, const float *bias, const float *residual,
                        int c_begin, int c_end, ck_activation act);

/// Element-wise activation over n values (in may equal out).
void ck_activation_apply(const float *in, float *out, size_t n, ck_activation act);

/// Max pooling for channels [c_begin, c_end); padding never wins (treated as -inf). A window
/// with no in-image tap (possible with dilation) gives -FLT_MAX, as in ONNX Runtime.
void ck_maxpool2d(const float *in, float *out, const ck_window *win, int c_begin, int c_end);

/// Average pooling for channels [c_begin, c_end); count_include_pad as in ONNX AveragePool.
void ck_avgpool2d(const float *in, float *out, const ck_window *win, int count_include_pad,
                  int c_begin, int c_end);

/// Average pooling with explicit bottom/right padding (ck_window only carries top/left), needed
/// when count_include_pad = 1 and ceil_mode windows run past the real padding: the divisor is
/// then the number of taps inside [-pad_top, in_h + pad_bottom) x [-pad_left, in_w + pad_right).
/// ck_avgpool2d is this function with the padding that makes the last window just fit, which is
/// exact whenever every window lies inside the real padded extent (always so with ceil_mode = 0).
void ck_avgpool2d_padded(const float *in, float *out, const ck_window *win, int pad_bottom,
                         int pad_right, int count_include_pad, int c_begin, int c_end);

/// Mean of each channel's spatial values: out[c] = mean(in[c][0..<spatial]).
void ck_global_avgpool(const float *in, float *out, int spatial, int c_begin, int c_end);

/// Bilinear resize of channels [c_begin, c_end) of a [C][in_h][in_w] tensor to
/// [C][out_h][out_w] from precomputed tables (built once per shape by the caller):
/// out[y][x] = lerp_y(lerp_x(in[y0[y]][x0[x]], in[y0[y]][x1[x]], wx[x]), same for y1[y], wy[y])
/// where lerp(a, b, w) = a + w*(b - a).
void ck_resize_bilinear(const float *in, float *out, int in_h, int in_w, int out_h, int out_w,
                        const int32_t *y0, const int32_t *y1, const float *wy,
                        const int32_t *x0, const int32_t *x1, const float *wx,
                        int c_begin, int c_end);

/// Nearest resize from precomputed source indices (ys: out_h entries, xs: out_w entries).
void ck_resize_nearest(const float *in, float *out, int in_h, int in_w, int out_h, int out_w,
                       const int32_t *ys, const int32_t *xs, int c_begin, int c_end);

/// out[c][i] = in[c][i] * scale[c] for channels [c_begin, c_end) (squeeze-excitation).
void ck_channel_scale(const float *in, const float *scale, float *out, int spatial,
                      int c_begin, int c_end);

/// Binary element-wise kinds.
typedef enum { CK_ADD = 0, CK_SUB = 1, CK_MUL = 2, CK_DIV = 3 } ck_binary_kind;

/// out[i] = a[i] op b[i] for i in [0, n).
void ck_binary_same(const float *a, const float *b, float *out, size_t n, int kind);
/// out[i] = a[i] op s (scalar_on_left != 0: s op a[i]).
void ck_binary_scalar(const float *a, float s, float *out, size_t n, int kind, int scalar_on_left);

/// Numerically stable softmax over `axis_len` contiguous values, for `outer` groups,
/// where each group's elements are `inner` apart:
/// element (o, k, i) lives at o*axis_len*inner + k*inner + i.
void ck_softmax(const float *in, float *out, int outer, int axis_len, int inner);

/// Size, in floats, of the packed form of a row-major M×K matrix A (0 when m or k is not positive).
size_t ck_gemm_packed_a_size(int m, int k);

/// Packs A (row-major M×K, leading dimension lda >= k) once, e.g. at model load, into `packed`
/// (ck_gemm_packed_a_size floats, 64-byte aligned by the caller). The layout is the same for
/// every dispatch path: 8-row panels, each k-major, rows past m zero.
void ck_gemm_pack_a(int m, int k, const float *a, int lda, float *packed);

/// Floats of per-thread scratch ck_gemm_packed needs for a given k (B panels are packed into it).
size_t ck_gemm_scratch_size(int k);

/// C[i][j] = act(sum_k A[i][k]*B[k][j] + bias[i] (+ residual[i*ldr + j])) for rows i in
/// [m_begin, m_end) and columns j in [n_begin, n_end); other elements of C are untouched.
/// packed_a comes from ck_gemm_pack_a(m, k, ...); B is row-major K×N with leading dimension ldb,
/// C is M×N with ldc. bias and residual may be NULL; residual may alias C (then ldr == ldc).
/// The caller splits rows and/or columns across its own threads (splitting columns at multiples
/// of 48 keeps the AVX-512 tiles full and lets each thread pack only its own part of B);
/// `scratch` is that thread's ck_gemm_scratch_size(k) floats, 64-byte aligned (NULL falls back to
/// the much slower scalar path). Rows split at multiples of 8 avoid recomputing a shared
/// boundary panel in two threads. Non-positive
/// sizes, ldb/ldc (or ldr with a residual) below n, or empty ranges make the call a no-op.
void ck_gemm_packed(int m, int n, int k, const float *packed_a, const float *b, int ldb, float *c,
                    int ldc, const float *bias, const float *residual, int ldr, ck_activation act,
                    int m_begin, int m_end, int n_begin, int n_end, float *scratch);

#ifdef __cplusplus
}
#endif
#endif
