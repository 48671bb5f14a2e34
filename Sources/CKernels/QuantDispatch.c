// Public int8 entry points: argument checks, then the path of the dispatch table (ck_platform).
#include "Internal.h"

size_t ck_qgemm_scratch_size(int k) {
    size_t size = 64;
    if (k <= 0) return size;
    // The largest over every path, since the dispatch mode may change between sizing and use.
    size_t paths[3] = {ck_qgemm_scratch_avx512(k), ck_qgemm_scratch_avxvnni(k), ck_qgemm_scratch_avx2(k)};
    for (int i = 0; i < 3; i++) size = paths[i] > size ? paths[i] : size;
    return (size + 63) / 64 * 64;
}

const char *ck_qgemm_path(void) { return ck_platform_get()->qgemm_name; }
int ck_qgemm_column_step(void) { return ck_platform_get()->qgemm_columns; }

void ck_qgemm(int m, int n, int k, const void *packed_a, const uint8_t *b, int ldb, int b_signed, void *c,
              int ldc, const ck_requant *rq, int m_begin, int m_end, int n_begin, int n_end, void *scratch) {
    if (m <= 0 || n <= 0 || k <= 0 || ldb < n || ldc < n) return;
    m_begin = ck_max_int(m_begin, 0); m_end = ck_min_int(m_end, m);
    n_begin = ck_max_int(n_begin, 0); n_end = ck_min_int(n_end, n);
    if (m_begin >= m_end || n_begin >= n_end) return;
    ck_qgemm_fn fn = ck_platform_get()->qgemm;
    // The SIMD paths pack B into the scratch; without one the scalar path still gives the answer.
    if (fn && scratch)
        fn(m, n, k, packed_a, b, ldb, b_signed, c, ldc, rq, m_begin, m_end, n_begin, n_end, scratch);
    else
        ck_qgemm_scalar(m, n, k, packed_a, b, ldb, b_signed, c, ldc, rq, m_begin, m_end, n_begin, n_end);
}

int ck_qgemm_conv_supported(const ck_window *win, int k) {
    return ck_platform_get()->qgemm_conv != NULL && ck_qgemm_conv_fits(win, k);
}

int ck_qgemm_conv(int m, int k, const void *packed_a, const uint8_t *in, const ck_window *win, uint8_t pad, int b_signed,
                  void *c, int ldc, const ck_requant *rq, int m_begin, int m_end, int n_begin, int n_end, void *scratch) {
    ck_qgemm_conv_fn fn = ck_platform_get()->qgemm_conv;
    if (!fn || !scratch || m <= 0 || k <= 0 || !ck_qgemm_conv_fits(win, k)) return 0;
    int n = win->out_h * win->out_w;
    if (ldc < n) return 0;
    m_begin = ck_max_int(m_begin, 0); m_end = ck_min_int(m_end, m);
    n_begin = ck_max_int(n_begin, 0); n_end = ck_min_int(n_end, n);
    if (m_begin >= m_end || n_begin >= n_end) return 1;
    return fn(m, k, packed_a, in, win, pad, b_signed, c, ldc, rq, m_begin, m_end, n_begin, n_end, scratch);
}

void ck_qdepthwise_conv2d(const void *in, ck_qparams in_q, const int8_t *weight, const ck_requant *rq, void *out,
                          const ck_window *win, int c_begin, int c_end) {
    if (win->out_h <= 0 || win->out_w <= 0 || win->stride_h <= 0 || win->stride_w <= 0 || win->dilation_h <= 0 ||
        win->dilation_w <= 0 || c_begin >= c_end)
        return;
    ck_platform_get()->qdepthwise(in, in_q, weight, rq, out, win, c_begin, c_end);
}

void ck_quantize(const float *in, void *out, size_t n, ck_qparams p) { ck_platform_get()->quantize(in, out, n, p); }

void ck_dequantize(const void *in, float *out, size_t n, ck_qparams p) {
    ck_platform_get()->dequantize(in, out, n, p);
}

void ck_qadd(const void *a, ck_qparams pa, const void *b, ck_qparams pb, void *c, ck_qparams pc, size_t n) {
    ck_platform_get()->qadd(a, pa, b, pb, c, pc, n);
}

void ck_qrequantize(const void *in, ck_qparams pin, void *out, ck_qparams pout, size_t n) {
    ck_platform_get()->qrequantize(in, pin, out, pout, n);
}

void ck_qglobal_avgpool(const void *in, ck_qparams pin, void *out, ck_qparams pout, int spatial, int c_begin,
                        int c_end) {
    ck_platform_get()->qglobal_avgpool(in, pin, out, pout, spatial, c_begin, c_end);
}
