// Int8 kernels for quantized (QDQ / QOperator) ONNX models, with the arithmetic onnxruntime uses so
// results match it: exact int32 accumulation of u8 x s8 products, then requantisation in fp32
// (acc * scale, round half to even, + zero point, clamp). 8-bit activation tensors are stored as
// bytes; ck_qparams says whether a byte is uint8 or int8. Like CKernels.h, every kernel has a
// portable scalar path and SIMD paths picked at run time, never starts threads and never allocates.
#ifndef CKQUANT_H
#define CKQUANT_H

#include <stddef.h>
#include <stdint.h>
#include "CKWindow.h"

#ifdef __cplusplus
extern "C" {
#endif

/// Encoding of an 8-bit tensor: real = (q - zero_point) * scale, q uint8 or (is_signed) int8.
typedef struct {
    float scale;
    int32_t zero_point;
    int32_t is_signed;
} ck_qparams;

/// Requantisation of row (output channel) i's int32 accumulator to an 8-bit output:
/// q = clamp(round_half_even(float(acc + bias[i]) * scale[i]) + zero_point, qmin, qmax).
/// qmin/qmax are the output type's range, narrowed by a fused Relu/Clip.
typedef struct {
    const int32_t *bias;   // per row; never NULL (the caller folds zero-point corrections in)
    const float *scale;    // per row: input scale * weight scale[i] / output scale
    int32_t zero_point;
    int32_t qmin, qmax;
    int32_t out_signed;    // 0: uint8 output, 1: int8 output
} ck_requant;

/// Rows per panel of the packed weight matrix (the layout is the same on every path).
#define CK_QGEMM_MR 8

/// Bytes of the packed form of a row-major M x K int8 matrix A: ceil(M/8) panels, each
/// ceil(K/4) groups of 8 rows x 4 consecutive k bytes; rows past m and k past K are zero.
size_t ck_qgemm_packed_a_size(int m, int k);

/// Packs int8 A (row-major, leading dimension lda >= k) into `packed` (64-byte aligned).
void ck_qgemm_pack_a(int m, int k, const int8_t *a, int lda, void *packed);

/// Bytes of per-thread scratch ck_qgemm needs for a given k (it packs B panels into it).
size_t ck_qgemm_scratch_size(int k);

/// C[i][j] = requant_i(sum_k A[i][k] * B[k][j]) for rows [m_begin, m_end), columns [n_begin, n_end),
/// where B is row-major K x N bytes with leading dimension ldb, read as uint8 or, when b_signed,
/// as int8 + 128 (so every product is u8 x s8 and the caller's bias carries -zero_point x row sum
/// with the zero point shifted by 128 for int8 inputs). C is M x N bytes (ldc), uint8 or int8 per
/// rq->out_signed. `scratch` is this thread's ck_qgemm_scratch_size(k) bytes, 64-byte aligned
/// (NULL falls back to the much slower scalar path).
/// Non-positive sizes, ldb/ldc below n or empty ranges make the call a no-op.
void ck_qgemm(int m, int n, int k, const void *packed_a, const uint8_t *b, int ldb, int b_signed,
              void *c, int ldc, const ck_requant *rq, int m_begin, int m_end, int n_begin, int n_end,
              void *scratch);

/// ck_qgemm with B the im2col (ck_im2col_u8, pad byte `pad`) of the C x H x W bytes at `in` for the
/// window `win`, read straight from `in` instead of a column buffer; columns are the
/// win->out_h x win->out_w output pixels (n_begin..n_end of them), k = channels x kernel taps.
/// Returns 0, having done nothing, when the current path cannot (no AVX-512 VNNI, a window with
/// stride_w != 1 or output rows under 16 pixels, no scratch): then use ck_im2col_u8 and ck_qgemm.
/// `scratch` as for ck_qgemm(k).
int ck_qgemm_conv(int m, int k, const void *packed_a, const uint8_t *in, const ck_window *win, uint8_t pad, int b_signed,
                  void *c, int ldc, const ck_requant *rq, int m_begin, int m_end, int n_begin, int n_end, void *scratch);

/// Whether ck_qgemm_conv does the work for this window and k on the current path.
int ck_qgemm_conv_supported(const ck_window *win, int k);

/// im2col of an 8-bit tensor (layout as ck_im2col's): out-of-image taps get the byte `pad`, which
/// is the input's zero point, so padded taps contribute exactly 0 after the zero-point correction.
void ck_im2col_u8(const uint8_t *in, uint8_t *col, const ck_window *win, int row_begin,
                  int row_end, uint8_t pad);

/// Depthwise convolution of an 8-bit tensor for channels [c_begin, c_end):
/// acc[c] = sum over in-image taps of (x - in.zero_point) * w[c][tap], exact in int32, then
/// out = requant_c(acc). weight is int8 [C][kernel_h][kernel_w]; in and out point at channel 0.
void ck_qdepthwise_conv2d(const void *in, ck_qparams in_q, const int8_t *weight, const ck_requant *rq,
                          void *out, const ck_window *win, int c_begin, int c_end);

/// out[i] = clamp(round_half_even(in[i] / p.scale) + p.zero_point), as ONNX QuantizeLinear.
void ck_quantize(const float *in, void *out, size_t n, ck_qparams p);

/// out[i] = (in[i] - p.zero_point) * p.scale, as ONNX DequantizeLinear.
void ck_dequantize(const void *in, float *out, size_t n, ck_qparams p);

/// c[i] = clamp(round_half_even(fma(a[i], sa/sc, fma(b[i], sb/sc, zc - fma(za, sa/sc, zb*sb/sc))))), the
/// arithmetic of onnxruntime's QLinearAdd (zero points folded into one constant, two fused
/// multiply-adds). a, b and c have the same element count n (no broadcasting).
void ck_qadd(const void *a, ck_qparams pa, const void *b, ck_qparams pb, void *c, ck_qparams pc, size_t n);

/// out[i] = clamp(round_half_even((in[i] - zin) * (sin/sout)) + zout); a byte copy when the two
/// encodings are equal (QLinearConcat's per-input step).
void ck_qrequantize(const void *in, ck_qparams pin, void *out, ck_qparams pout, size_t n);

/// Per channel c in [c_begin, c_end): out[c] = clamp(round_half_even(float(sum(in[c]) - zin*spatial)
/// * (sin / (sout * spatial))) + zout), as onnxruntime's QLinearGlobalAveragePool (NCHW).
void ck_qglobal_avgpool(const void *in, ck_qparams pin, void *out, ck_qparams pout, int spatial,
                        int c_begin, int c_end);

/// Floats of scratch ck_resize_bilinear_q8 needs.
#define CK_RESIZE_Q8_SCRATCH(in_w, out_w) (2 * (size_t)(in_w) + 6 * (size_t)(out_w))

/// Bilinear resize of channels [c_begin, c_end) of an 8-bit [C][in_h][in_w] tensor from the tables
/// ck_resize_bilinear takes, with onnxruntime's arithmetic: weights dx1 = |s - x0|, dx2 = |s - x1|
/// (0.5 each where x0 == x1; likewise for y), v = dx2*dy2*X00 + dx1*dy2*X01 + dx2*dy1*X10 +
/// dx1*dy1*X11 summed in that order. requant == NULL: X are the codes and out = trunc(v) (its 8-bit
/// Resize); otherwise X are the dequantized values and out = quantize(v) with *requant (its float
/// Resize between a DequantizeLinear and a QuantizeLinear of one encoding). dequant != NULL: out is
/// float and receives (q - zero_point) * scale (a DequantizeLinear after the Resize, fused). scratch:
/// CK_RESIZE_Q8_SCRATCH floats.
void ck_resize_bilinear_q8(const void *in, void *out, int is_signed, const ck_qparams *requant,
                           const ck_qparams *dequant, int in_h, int in_w, int out_h, int out_w, const int32_t *y0,
                           const int32_t *y1, const float *wy, const int32_t *x0, const int32_t *x1, const float *wx,
                           int c_begin, int c_end, float *scratch);

/// Nearest resize of an 8-bit tensor from precomputed source indices (as ck_resize_nearest).
void ck_resize_nearest_q8(const uint8_t *in, uint8_t *out, int in_h, int in_w, int out_h, int out_w,
                          const int32_t *ys, const int32_t *xs, int c_begin, int c_end);

/// Max pooling of an 8-bit tensor on its codes for channels [c_begin, c_end); taps in the padding
/// never win (a window with no in-image tap gives the type's minimum).
void ck_maxpool2d_q8(const void *in, void *out, int is_signed, const ck_window *win, int c_begin, int c_end);

/// The kernel family the dispatcher picked for int8 GEMMs: "avx512-vnni", "avx-vnni", "avx2" or
/// "scalar" (it follows ck_set_dispatch).
const char *ck_qgemm_path(void);

/// Columns of that path's tiles: a column range split between threads at multiples of it leaves
/// no thread a partial tile but the last (it follows ck_set_dispatch).
int ck_qgemm_column_step(void);

#ifdef __cplusplus
}
#endif
#endif
