// The window geometry shared by the fp32 and int8 convolution and pooling kernels.
#ifndef CKWINDOW_H
#define CKWINDOW_H

/// Geometry of a 2-D convolution or pooling window.
typedef struct {
    int channels, in_h, in_w;      // input C, H, W (for conv: input channels of one group)
    int out_h, out_w;
    int kernel_h, kernel_w;
    int stride_h, stride_w;
    int pad_top, pad_left;         // bottom/right padding follows from out_h/out_w
    int dilation_h, dilation_w;
} ck_window;

#endif
