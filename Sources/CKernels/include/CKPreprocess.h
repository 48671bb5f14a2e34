// Camera frame -> normalised NCHW float input: bilinear resize and (pixel·scale − mean)/std in one
// pass over rows, so a frame can be split between threads by output rows.
#ifndef CK_PREPROCESS_H
#define CK_PREPROCESS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Source pixel layouts (YUYV: BT.601 limited range, two pixels in four bytes).
enum { CK_PIXEL_RGB8 = 0, CK_PIXEL_BGR8 = 1, CK_PIXEL_MONO8 = 2, CK_PIXEL_YUYV = 3 };

/// One frame's preprocessing: the source, the half-pixel bilinear taps of each output column and
/// row (x0/x1/wx: out_w entries, y0/y1/wy: out_h), and per output plane c the source channel
/// order[c] (0 R, 1 G, 2 B), gain[c] and offset[c]: out = value·gain + offset.
typedef struct {
    const uint8_t *pixels;
    int format, width, height, stride;
    int out_w, out_h;
    const int32_t *x0, *x1, *y0, *y1;
    const float *wx, *wy;
    float gain[3], offset[3];
    int order[3];
    float *out;
} ck_preprocess_args;

/// Floats of scratch one call needs: two horizontally resampled source rows of three planes.
size_t ck_preprocess_scratch_floats(int out_w);

/// Writes output rows [y_begin, y_end) of the three planes. Each source row is resampled
/// horizontally once per call and kept while consecutive output rows need it. Arithmetic is
/// plain fp32 in a fixed order without fused multiply-adds (h = l + (r − l)·t per row, then
/// (top + (bottom − top)·t)·gain + offset), so any split of the rows gives the same bytes.
void ck_preprocess_rows(const ck_preprocess_args *args, int y_begin, int y_end, float *scratch);

#ifdef __cplusplus
}
#endif
#endif
