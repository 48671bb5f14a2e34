// SIMD paths of the int8 depthwise convolution (ck_qdepthwise_conv2d), for kernels of up to 49
// taps (3x3, 5x5, 7x7, ...), any stride, dilation and padding. Like the fp32 AVX2 path in
// Depthwise.c, input rows are first staged into padded rows on the stack, here as int16
// x - zero_point with 0 for the padding, so a padded tap contributes exactly 0 (the header's "sum
// over in-image taps") and there is no border code in the inner loop; for stride s each staged
// row is split into s phases (columns s*i + phase), so every tap of every output is a plain
// unaligned load at a fixed offset. Rows outside the image point at a shared zero row. A channel
// whose padded plane fits the 32 KB buffer (every MobileNetV2 layer from 64x128 down) is staged
// whole, once, and its output rows then go to the row kernel in batches; larger planes use the
// buffer as a ring of the rows one output row spans, staging each row once all the same.
// The row kernels interleave the int16 values of two taps (vpunpck{l,h}wd) and multiply them
// with the taps' weight pair: vpmaddwd + vpaddd on AVX2, vpdpwssd with VNNI. Products are at most
// 255 x 128 in magnitude (x and the zero point are both of the input type) and sums of up to 49
// of them, so int32 is exact, as in the scalar reference; the bias is the accumulators' start
// (int32 addition is associative).
#include "Internal.h"

#include <string.h>

#if CK_X86

#define QDW_RING 16384       // int16 elements of the stack buffer (32 KB), the zero row included
#define QDW_MAX_SLOTS 64     // rows of the ring
#define QDW_MAX_TAPS 49      // kernel_h * kernel_w limit of the SIMD paths
#define QDW_ROW_PTRS 256     // row pointers of one batch (batch rows x kernel_h)

/// A batch of output rows of one channel and column chunk, for the row kernels.
typedef struct {
    const int16_t *rows[QDW_ROW_PTRS];     // [batch row][kh]: staged input row at the chunk's output 0
    const int *off;                        // [kw]: int16 offset of the tap inside a staged row
    int kh, kw;
    size_t out_stride;                     // bytes between output rows
    int32_t wpair[(QDW_MAX_TAPS + 1) / 2]; // weights of taps 2p, 2p+1 (kh-major) as two int16
    int32_t bias, zp;
    float scale, flo, fhi;
} qdw_rows;

typedef void (*qdw_rows_fn)(const qdw_rows *r, int nrows, int n, uint8_t *out);
typedef void (*qdw_stage_fn)(const uint8_t *row, int W, int col0, int sw, int half, int32_t zp, int is_signed,
                             int16_t *dst);

/// A path's kernels: rows for 3x3, 5x5 and any size, the staging, and outputs per vector step.
typedef struct {
    qdw_rows_fn rows33, rows55, rows_any;
    qdw_stage_fn stage;
    int lanes;
} qdw_kernels;

#define QDW_YMM(name) name##_avx2
#define QDW_YMM_TARGET CK_AVX2
#define QDW_YMM_DOT(acc, x, w) _mm256_add_epi32(acc, _mm256_madd_epi16(x, w))
#include "QDepthwiseYmm.h"

#define QDW_YMM(name) name##_avxvnni
#define QDW_YMM_TARGET CK_AVXVNNI
#define QDW_YMM_DOT(acc, x, w) _mm256_dpwssd_avx_epi32(acc, x, w)
#include "QDepthwiseYmm.h"

/// The zmm row kernels: 32 outputs per step, vpdpwssd, masked byte store at the end.
CK_AVX512VNNI CK_INLINE void rows_body_avx512vnni(const int KH_, const int KW_, const qdw_rows *r, int nrows, int n,
                                                  uint8_t *out) {
    const int KH = KH_ ? KH_ : r->kh, KW = KW_ ? KW_ : r->kw, T = KH * KW, P = T / 2;
    __m512i w[(QDW_MAX_TAPS + 1) / 2];
    for (int p = 0; p < (T + 1) / 2; p++) w[p] = _mm512_set1_epi32(r->wpair[p]);
    const __m512i bias = _mm512_set1_epi32(r->bias), zp = _mm512_set1_epi32(r->zp);
    const __m512i low = _mm512_set1_epi32(0xFF), zero = _mm512_setzero_si512();
    const __m512 scale = _mm512_set1_ps(r->scale), flo = _mm512_set1_ps(r->flo), fhi = _mm512_set1_ps(r->fhi);
    for (int q = 0; q < nrows; q++) {
        const int16_t *tap[QDW_MAX_TAPS];
        for (int kh = 0; kh < KH; kh++)
            for (int kw = 0; kw < KW; kw++) tap[kh * KW + kw] = r->rows[q * KH + kh] + r->off[kw];
        uint8_t *o = out + (size_t)q * r->out_stride;
        for (int t0 = 0; t0 < n; t0 += 32) {
            __m512i lo = bias, hi = bias;
            for (int p = 0; p < P; p++) {
                __m512i a = _mm512_loadu_si512((const void *)(tap[2 * p] + t0));
                __m512i b = _mm512_loadu_si512((const void *)(tap[2 * p + 1] + t0));
                lo = _mm512_dpwssd_epi32(lo, _mm512_unpacklo_epi16(a, b), w[p]);
                hi = _mm512_dpwssd_epi32(hi, _mm512_unpackhi_epi16(a, b), w[p]);
            }
            if (T & 1) {
                __m512i a = _mm512_loadu_si512((const void *)(tap[T - 1] + t0));
                lo = _mm512_dpwssd_epi32(lo, _mm512_unpacklo_epi16(a, zero), w[P]);
                hi = _mm512_dpwssd_epi32(hi, _mm512_unpackhi_epi16(a, zero), w[P]);
            }
            // Per 128-bit lane L, lo holds outputs 8L..8L+3 and hi 8L+4..8L+7: the in-lane pack
            // restores the order, vpmovwb keeps each word's low byte.
            __m512 xl = _mm512_mul_ps(_mm512_cvtepi32_ps(lo), scale), xh = _mm512_mul_ps(_mm512_cvtepi32_ps(hi), scale);
            xl = _mm512_min_ps(_mm512_max_ps(xl, flo), fhi);
            xh = _mm512_min_ps(_mm512_max_ps(xh, flo), fhi);
            __m512i ql = _mm512_and_si512(_mm512_add_epi32(_mm512_cvtps_epi32(xl), zp), low);
            __m512i qh = _mm512_and_si512(_mm512_add_epi32(_mm512_cvtps_epi32(xh), zp), low);
            __m256i bytes = _mm512_cvtepi16_epi8(_mm512_packus_epi32(ql, qh));
            int left = n - t0;
            if (left >= 32)
                _mm256_storeu_si256((__m256i *)(o + t0), bytes);
            else
                _mm256_mask_storeu_epi8(o + t0, (__mmask32)((1u << left) - 1u), bytes);
        }
    }
}

CK_AVX512VNNI static void rows33_avx512vnni(const qdw_rows *r, int nrows, int n, uint8_t *out) {
    rows_body_avx512vnni(3, 3, r, nrows, n, out);
}
CK_AVX512VNNI static void rows55_avx512vnni(const qdw_rows *r, int nrows, int n, uint8_t *out) {
    rows_body_avx512vnni(5, 5, r, nrows, n, out);
}
CK_AVX512VNNI static void rows_any_avx512vnni(const qdw_rows *r, int nrows, int n, uint8_t *out) {
    rows_body_avx512vnni(0, 0, r, nrows, n, out);
}

/// pshufb controls for edge16: window [16 + shift, 32 + shift) of u - 16 (u in [16, 32)) and 0x80
/// elsewhere.
static const int8_t k_edge_shuffle[48] = {
    -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128,
    0,    1,    2,    3,    4,    5,    6,    7,    8,    9,    10,   11,   12,   13,   14,   15,
    -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128};

/// Bytes j0 .. j0+15 of a row of W >= 16 bytes when some lie outside [0, W): those read as the
/// zero point's byte. Loads the 16 in-row bytes nearest to j0 (never outside the row) and moves
/// them to their lanes.
CK_AVX2 CK_INLINE __m128i edge16(const uint8_t *row, int W, int j0, __m128i zp_bytes) {
    int base = ck_min_int(ck_max_int(j0, 0), W - 16);
    __m128i v = _mm_loadu_si128((const __m128i *)(row + base));
    __m128i ctrl = _mm_loadu_si128((const __m128i *)(k_edge_shuffle + 16 + (j0 - base)));
    return _mm_blendv_epi8(_mm_shuffle_epi8(v, ctrl), zp_bytes, ctrl);
}

/// Bytes j0 .. j0+15 of a row, those outside [0, W) as the zero point's byte (any W).
CK_AVX2 CK_INLINE __m128i bytes16(const uint8_t *row, int W, int j0, __m128i zp_bytes, uint8_t zp_byte) {
    if (j0 >= 0 && j0 + 16 <= W) return _mm_loadu_si128((const __m128i *)(row + j0));
    // No byte in the row (the second half of a stride-2 unit past the row's end): edge16's
    // shuffle-table window would run past the table.
    if (j0 >= W || j0 + 16 <= 0) return zp_bytes;
    if (W >= 16) return edge16(row, W, j0, zp_bytes);
    _Alignas(16) uint8_t buf[16];
    for (int t = 0; t < 16; t++) buf[t] = j0 + t >= 0 && j0 + t < W ? row[j0 + t] : zp_byte;
    return _mm_load_si128((const __m128i *)buf);
}

/// Stages one input row: dst[f*half + i] = X(col0 + sw*i + f), i in [0, half) (a multiple of 16),
/// for each phase f < sw, X(j) = byte j - zp inside [0, W) and 0 outside. Padding is formed from
/// the zero point's byte, so it stages as exactly 0 through the same conversion.
CK_AVX2 static void stage_row_avx2(const uint8_t *row, int W, int col0, int sw, int half, int32_t zp, int is_signed,
                                   int16_t *dst) {
    const __m256i zpv = _mm256_set1_epi16((short)zp), low = _mm256_set1_epi16(0xFF);
    const uint8_t zp_byte = (uint8_t)zp;
    const __m128i zp_bytes = _mm_set1_epi8((char)zp_byte);
    if (sw == 1) {
        for (int i = 0; i < half; i += 16) {
            int j0 = col0 + i;
            if (j0 >= W || j0 + 16 <= 0) {
                _mm256_storeu_si256((__m256i *)(dst + i), _mm256_setzero_si256());
                continue;
            }
            __m128i x = bytes16(row, W, j0, zp_bytes, zp_byte);
            __m256i v = is_signed ? _mm256_cvtepi8_epi16(x) : _mm256_cvtepu8_epi16(x);
            _mm256_storeu_si256((__m256i *)(dst + i), _mm256_sub_epi16(v, zpv));
        }
    } else if (sw == 2) {
        for (int i = 0; i < half; i += 16) {
            int j0 = col0 + 2 * i;
            if (j0 >= W || j0 + 32 <= 0) {
                _mm256_storeu_si256((__m256i *)(dst + i), _mm256_setzero_si256());
                _mm256_storeu_si256((__m256i *)(dst + half + i), _mm256_setzero_si256());
                continue;
            }
            __m256i v;
            if (j0 >= 0 && j0 + 32 <= W)
                v = _mm256_loadu_si256((const __m256i *)(row + j0));
            else
                v = _mm256_set_m128i(bytes16(row, W, j0 + 16, zp_bytes, zp_byte), bytes16(row, W, j0, zp_bytes, zp_byte));
            // 32 bytes as 16 words: the even columns are the low bytes, the odd ones the high bytes.
            __m256i e = is_signed ? _mm256_srai_epi16(_mm256_slli_epi16(v, 8), 8) : _mm256_and_si256(v, low);
            __m256i o = is_signed ? _mm256_srai_epi16(v, 8) : _mm256_srli_epi16(v, 8);
            _mm256_storeu_si256((__m256i *)(dst + i), _mm256_sub_epi16(e, zpv));
            _mm256_storeu_si256((__m256i *)(dst + half + i), _mm256_sub_epi16(o, zpv));
        }
    } else {
        for (int f = 0; f < sw; f++)
            for (int i = 0; i < half; i++) {
                int j = col0 + sw * i + f;
                dst[f * half + i] = (int16_t)(j >= 0 && j < W ? ck_q_load(row, (size_t)j, is_signed) - zp : 0);
            }
    }
}

/// Lanes [lo, hi) of a 64-lane mask, both clamped to 0..64.
CK_INLINE uint64_t lane_range64(int lo, int hi) {
    lo = ck_max_int(0, ck_min_int(lo, 64));
    hi = ck_max_int(0, ck_min_int(hi, 64));
    if (hi <= lo) return 0;
    uint64_t below_hi = hi == 64 ? ~(uint64_t)0 : (((uint64_t)1 << hi) - 1);
    return below_hi & ~(((uint64_t)1 << lo) - 1);
}

/// stage_row_avx2 with AVX-512 (half a multiple of 32): each unit is one byte-masked load of its
/// in-image columns over a vector of zero-point bytes, so there is no edge case at all.
CK_AVX512VNNI static void stage_row_avx512(const uint8_t *row, int W, int col0, int sw, int half, int32_t zp,
                                           int is_signed, int16_t *dst) {
    const __m512i zpv = _mm512_set1_epi16((short)zp), low = _mm512_set1_epi16(0xFF);
    if (sw == 1) {
        const __m256i zp_bytes = _mm256_set1_epi8((char)zp);
        for (int i = 0; i < half; i += 32) {
            int j0 = col0 + i;
            const uint8_t *p = (const uint8_t *)((uintptr_t)row + (intptr_t)j0);   // masked lanes never load
            __m256i x = j0 >= 0 && j0 + 32 <= W ? _mm256_loadu_si256((const __m256i *)p)
                                                : _mm256_mask_loadu_epi8(zp_bytes, (__mmask32)lane_range64(-j0, W - j0), p);
            __m512i v = is_signed ? _mm512_cvtepi8_epi16(x) : _mm512_cvtepu8_epi16(x);
            _mm512_storeu_si512((void *)(dst + i), _mm512_sub_epi16(v, zpv));
        }
    } else if (sw == 2) {
        const __m512i zp_bytes = _mm512_set1_epi8((char)zp);
        for (int i = 0; i < half; i += 32) {
            int j0 = col0 + 2 * i;
            const uint8_t *p = (const uint8_t *)((uintptr_t)row + (intptr_t)j0);
            __m512i v = j0 >= 0 && j0 + 64 <= W ? _mm512_loadu_si512((const void *)p)
                                                : _mm512_mask_loadu_epi8(zp_bytes, (__mmask64)lane_range64(-j0, W - j0), p);
            __m512i e = is_signed ? _mm512_srai_epi16(_mm512_slli_epi16(v, 8), 8) : _mm512_and_si512(v, low);
            __m512i o = is_signed ? _mm512_srai_epi16(v, 8) : _mm512_srli_epi16(v, 8);
            _mm512_storeu_si512((void *)(dst + i), _mm512_sub_epi16(e, zpv));
            _mm512_storeu_si512((void *)(dst + half + i), _mm512_sub_epi16(o, zpv));
        }
    } else {
        stage_row_avx2(row, W, col0, sw, half, zp, is_signed, dst);
    }
}

/// The staging layout for one geometry; `ok` is 0 when the geometry does not fit the SIMD path.
typedef struct {
    int ok;
    int plane;      // 1: the whole channel is staged, row ih at slot ih; 0: ring of `slots` rows
    int slots;      // staged rows the buffer holds (the zero row comes after them)
    int chunk;      // output columns per pass (a multiple of lanes)
    int half;       // int16 per phase of a staged row: chunk + the taps' reach, whole vectors
    int slot_len;   // stride_w * half
} qdw_shape;

static long round_up(long n, long to) { return (n + to - 1) / to * to; }

static qdw_shape qdw_plan(const ck_window *g, int lanes) {
    qdw_shape r = {0, 0, 0, 0, 0, 0};
    if (g->kernel_h * g->kernel_w > QDW_MAX_TAPS) return r;
    long sw = g->stride_w;
    long reach = round_up((long)(g->kernel_w - 1) * g->dilation_w / sw, lanes);   // largest in-phase tap offset
    long out_w = round_up(g->out_w, lanes);
    long whole = sw * (out_w + reach);
    if ((g->in_h + 1L) * whole <= QDW_RING) {
        r.ok = 1;
        r.plane = 1;
        r.slots = g->in_h;
        r.chunk = (int)out_w;
    } else {
        long slots = (long)(g->kernel_h - 1) * g->dilation_h + 1;
        if (slots + 1 > QDW_MAX_SLOTS) return r;
        long per_slot = QDW_RING / (slots + 1) / lanes * lanes;   // + 1: the zero row
        long chunk = (per_slot / sw / lanes * lanes - reach) / lanes * lanes;
        if (chunk > out_w) chunk = out_w;
        if (chunk < lanes) return r;
        r.ok = 1;
        r.slots = (int)slots;
        r.chunk = (int)chunk;
    }
    r.half = (int)(r.chunk + reach);
    r.slot_len = (int)(sw * r.half);
    return r;
}

CK_AVX2 static void qdw_run(const qdw_kernels *kernels, const void *in, ck_qparams in_q, const int8_t *weight,
                            const ck_requant *rq, void *out, const ck_window *g, int c_begin, int c_end) {
    const int KH = g->kernel_h, KW = g->kernel_w, T = KH * KW;
    qdw_shape s = {0, 0, 0, 0, 0, 0};
    // Padding is staged from bytes holding the zero point, which must therefore be a value of the
    // input type (it always is in real models; anything else takes the scalar path).
    int zp_ok = in_q.zero_point >= ck_q_min(in_q.is_signed) && in_q.zero_point <= ck_q_max(in_q.is_signed);
    if (g->in_h > 0 && g->in_w > 0 && KH > 0 && KW > 0 && zp_ok) s = qdw_plan(g, kernels->lanes);
    if (!s.ok) {
        ck_qdepthwise_conv2d_scalar(in, in_q, weight, rq, out, g, c_begin, c_end);
        return;
    }
    qdw_rows_fn fn = KH == 3 && KW == 3 ? kernels->rows33 : (KH == 5 && KW == 5 ? kernels->rows55 : kernels->rows_any);
    qdw_stage_fn stage = kernels->stage;
    const int H = g->in_h, W = g->in_w, sw = g->stride_w, sh = g->stride_h, dh = g->dilation_h, S = s.slots;
    const int batch = ck_min_int(64, QDW_ROW_PTRS / KH);
    const size_t in_plane = (size_t)H * (size_t)W, out_plane = (size_t)g->out_h * (size_t)g->out_w;

    _Alignas(64) int16_t buffer[QDW_RING];
    int16_t *zero_row = buffer + (size_t)S * (size_t)s.slot_len;
    memset(zero_row, 0, (size_t)s.slot_len * sizeof(int16_t));
    int tag[QDW_MAX_SLOTS];
    int off[QDW_MAX_TAPS];
    for (int kw = 0; kw < KW; kw++) {
        int x = kw * g->dilation_w;
        off[kw] = (x % sw) * s.half + x / sw;
    }
    // Input rows any output row reads.
    const int ih_lo = ck_max_int(0, -g->pad_top);
    const int ih_hi = ck_min_int(H, (g->out_h - 1) * sh - g->pad_top + (KH - 1) * dh + 1);
    // Ring mode: slot of the kh = 0 row of output row 0 (ih mod S, non-negative); each output row
    // moves it by stride_h and each tap by dilation_h, modulo S.
    const int slot_first = ((-g->pad_top % S) + S) % S;
    qdw_rows r;
    r.off = off;
    r.kh = KH;
    r.kw = KW;
    r.out_stride = (size_t)g->out_w;
    r.zp = rq->zero_point;
    r.flo = (float)(rq->qmin - rq->zero_point);
    r.fhi = (float)(rq->qmax - rq->zero_point);
    for (int c = c_begin; c < c_end; c++) {
        const uint8_t *plane = (const uint8_t *)in + (size_t)c * in_plane;
        const int8_t *wc = weight + (size_t)c * (size_t)T;
        for (int p = 0; p < (T + 1) / 2; p++) {
            uint32_t w0 = (uint16_t)(int16_t)wc[2 * p];
            uint32_t w1 = 2 * p + 1 < T ? (uint16_t)(int16_t)wc[2 * p + 1] : 0;
            r.wpair[p] = (int32_t)(w0 | (w1 << 16));
        }
        r.bias = rq->bias[c];
        r.scale = rq->scale[c];
        uint8_t *out_c = (uint8_t *)out + (size_t)c * out_plane;
        for (int c0 = 0; c0 < g->out_w; c0 += s.chunk) {
            int n = ck_min_int(s.chunk, g->out_w - c0);
            int col0 = c0 * sw - g->pad_left;   // input column of the staged rows' column 0
            if (s.plane) {
                for (int ih = ih_lo; ih < ih_hi; ih++)
                    stage(plane + (size_t)ih * (size_t)W, W, col0, sw, s.half, in_q.zero_point, in_q.is_signed,
                          buffer + (size_t)ih * (size_t)s.slot_len);
                for (int oh0 = 0; oh0 < g->out_h; oh0 += batch) {
                    int nrows = ck_min_int(batch, g->out_h - oh0);
                    for (int q = 0; q < nrows; q++) {
                        int ih = (oh0 + q) * sh - g->pad_top;
                        for (int kh = 0; kh < KH; kh++, ih += dh)
                            r.rows[q * KH + kh] = ih >= 0 && ih < H ? buffer + (size_t)ih * (size_t)s.slot_len : zero_row;
                    }
                    fn(&r, nrows, n, out_c + (size_t)oh0 * (size_t)g->out_w + (size_t)c0);
                }
                continue;
            }
            for (int i = 0; i < S; i++) tag[i] = -1;
            int slot0 = slot_first;
            for (int oh = 0; oh < g->out_h; oh++) {
                int ih = oh * sh - g->pad_top;
                int slot = slot0;
                for (int kh = 0; kh < KH; kh++) {
                    const int16_t *rowp = zero_row;
                    if (ih >= 0 && ih < H) {
                        // The rows of one output row are S consecutive ones at most, so ih mod S
                        // never evicts a row still needed.
                        int16_t *dst = buffer + (size_t)slot * (size_t)s.slot_len;
                        if (tag[slot] != ih) {
                            stage(plane + (size_t)ih * (size_t)W, W, col0, sw, s.half, in_q.zero_point, in_q.is_signed,
                                  dst);
                            tag[slot] = ih;
                        }
                        rowp = dst;
                    }
                    r.rows[kh] = rowp;
                    ih += dh;
                    slot += dh;
                    while (slot >= S) slot -= S;
                }
                fn(&r, 1, n, out_c + (size_t)oh * (size_t)g->out_w + (size_t)c0);
                slot0 += sh;
                while (slot0 >= S) slot0 -= S;
            }
        }
    }
}

static const qdw_kernels kernels_avx2 = {rows33_avx2, rows55_avx2, rows_any_avx2, stage_row_avx2, 16};
static const qdw_kernels kernels_avxvnni = {rows33_avxvnni, rows55_avxvnni, rows_any_avxvnni, stage_row_avx2, 16};
static const qdw_kernels kernels_avx512vnni = {rows33_avx512vnni, rows55_avx512vnni, rows_any_avx512vnni,
                                               stage_row_avx512, 32};

void ck_qdepthwise_avx2(const void *in, ck_qparams in_q, const int8_t *weight, const ck_requant *rq, void *out,
                        const ck_window *win, int c_begin, int c_end) {
    qdw_run(&kernels_avx2, in, in_q, weight, rq, out, win, c_begin, c_end);
}

void ck_qdepthwise_avxvnni(const void *in, ck_qparams in_q, const int8_t *weight, const ck_requant *rq, void *out,
                           const ck_window *win, int c_begin, int c_end) {
    qdw_run(&kernels_avxvnni, in, in_q, weight, rq, out, win, c_begin, c_end);
}

void ck_qdepthwise_avx512vnni(const void *in, ck_qparams in_q, const int8_t *weight, const ck_requant *rq,
                              void *out, const ck_window *win, int c_begin, int c_end) {
    qdw_run(&kernels_avx512vnni, in, in_q, weight, rq, out, win, c_begin, c_end);
}

#endif
