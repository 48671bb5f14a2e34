// The ymm row kernels of QDepthwise.c, included once per instruction set with
//   QDW_YMM(name)   the function's name for this instruction set,
//   QDW_YMM_TARGET  its target attribute,
//   QDW_YMM_DOT(acc, x, w)  acc + the int16 pair dot products of x and w, exact in int32
//                           (vpmaddwd + vpaddd, or AVX-VNNI's vpdpwssd).
// Deliberately without an include guard; each inclusion #undefs these again at its end.

/// A batch of output row segments (n outputs each, 16 per step): each tap pair's staged inputs
/// interleaved (vpunpck{l,h}wd) and multiplied with the pair's weights, the accumulators starting
/// at the bias; then requantisation and a 16-byte store (the last one partial through a buffer).
/// KH_ / KW_ are the kernel size, or 0 to read it from r.
QDW_YMM_TARGET CK_INLINE void QDW_YMM(rows_body)(const int KH_, const int KW_, const qdw_rows *r, int nrows, int n,
                                                 uint8_t *out) {
    const int KH = KH_ ? KH_ : r->kh, KW = KW_ ? KW_ : r->kw, T = KH * KW, P = T / 2;
    __m256i w[(QDW_MAX_TAPS + 1) / 2];
    for (int p = 0; p < (T + 1) / 2; p++) w[p] = _mm256_set1_epi32(r->wpair[p]);
    const __m256i bias = _mm256_set1_epi32(r->bias), zp = _mm256_set1_epi32(r->zp);
    const __m256i low = _mm256_set1_epi32(0xFF), zero = _mm256_setzero_si256();
    const __m256 scale = _mm256_set1_ps(r->scale), flo = _mm256_set1_ps(r->flo), fhi = _mm256_set1_ps(r->fhi);
    for (int q = 0; q < nrows; q++) {
        const int16_t *tap[QDW_MAX_TAPS];
        for (int kh = 0; kh < KH; kh++)
            for (int kw = 0; kw < KW; kw++) tap[kh * KW + kw] = r->rows[q * KH + kh] + r->off[kw];
        uint8_t *o = out + (size_t)q * (size_t)r->out_stride;
        for (int t0 = 0; t0 < n; t0 += 16) {
            __m256i lo = bias, hi = bias;
            for (int p = 0; p < P; p++) {
                __m256i a = _mm256_loadu_si256((const __m256i *)(tap[2 * p] + t0));
                __m256i b = _mm256_loadu_si256((const __m256i *)(tap[2 * p + 1] + t0));
                lo = QDW_YMM_DOT(lo, _mm256_unpacklo_epi16(a, b), w[p]);
                hi = QDW_YMM_DOT(hi, _mm256_unpackhi_epi16(a, b), w[p]);
            }
            if (T & 1) {
                __m256i a = _mm256_loadu_si256((const __m256i *)(tap[T - 1] + t0));
                lo = QDW_YMM_DOT(lo, _mm256_unpacklo_epi16(a, zero), w[P]);
                hi = QDW_YMM_DOT(hi, _mm256_unpackhi_epi16(a, zero), w[P]);
            }
            // lo holds outputs 0-3 | 8-11, hi 4-7 | 12-15: the in-lane pack restores the order.
            __m256 xl = _mm256_mul_ps(_mm256_cvtepi32_ps(lo), scale), xh = _mm256_mul_ps(_mm256_cvtepi32_ps(hi), scale);
            xl = _mm256_min_ps(_mm256_max_ps(xl, flo), fhi);
            xh = _mm256_min_ps(_mm256_max_ps(xh, flo), fhi);
            __m256i ql = _mm256_and_si256(_mm256_add_epi32(_mm256_cvtps_epi32(xl), zp), low);
            __m256i qh = _mm256_and_si256(_mm256_add_epi32(_mm256_cvtps_epi32(xh), zp), low);
            __m256i words = _mm256_packus_epi32(ql, qh);
            __m256i bytes = _mm256_permute4x64_epi64(_mm256_packus_epi16(words, words), 0x08);
            if (n - t0 >= 16) {
                _mm_storeu_si128((__m128i *)(o + t0), _mm256_castsi256_si128(bytes));
            } else {
                _Alignas(16) uint8_t buf[16];
                _mm_store_si128((__m128i *)buf, _mm256_castsi256_si128(bytes));
                memcpy(o + t0, buf, (size_t)(n - t0));
            }
        }
    }
}

QDW_YMM_TARGET static void QDW_YMM(rows33)(const qdw_rows *r, int nrows, int n, uint8_t *out) {
    QDW_YMM(rows_body)(3, 3, r, nrows, n, out);
}
QDW_YMM_TARGET static void QDW_YMM(rows55)(const qdw_rows *r, int nrows, int n, uint8_t *out) {
    QDW_YMM(rows_body)(5, 5, r, nrows, n, out);
}
QDW_YMM_TARGET static void QDW_YMM(rows_any)(const qdw_rows *r, int nrows, int n, uint8_t *out) {
    QDW_YMM(rows_body)(0, 0, r, nrows, n, out);
}

#undef QDW_YMM
#undef QDW_YMM_TARGET
#undef QDW_YMM_DOT
