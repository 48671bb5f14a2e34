#ifndef CV4L2_H
#define CV4L2_H
// Non-variadic wrappers over libv4l2 and the videodev2.h constants Swift cannot import
// (v4l2_open/v4l2_ioctl are variadic, VIDIOC_* and V4L2_PIX_FMT_* are function-like macros).
// Every call returns -1 with errno set on failure and retries EINTR itself.

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Pixel formats (fourcc codes) moeseg asks for or recognises.
extern const uint32_t CV4L2_PIX_FMT_YUYV;
extern const uint32_t CV4L2_PIX_FMT_RGB24;
extern const uint32_t CV4L2_PIX_FMT_BGR24;
extern const uint32_t CV4L2_PIX_FMT_MJPEG;
extern const uint32_t CV4L2_PIX_FMT_GREY;

/// Capability bits.
extern const uint32_t CV4L2_CAP_VIDEO_CAPTURE;
extern const uint32_t CV4L2_CAP_STREAMING;

/// Format description flags.
extern const uint32_t CV4L2_FMT_FLAG_COMPRESSED;
extern const uint32_t CV4L2_FMT_FLAG_EMULATED;

/// Buffer flag bits.
extern const uint32_t CV4L2_BUF_FLAG_TIMESTAMP_MASK;
extern const uint32_t CV4L2_BUF_FLAG_TIMESTAMP_MONOTONIC;
extern const uint32_t CV4L2_BUF_FLAG_ERROR;

/// poll(2) results of cv4l2_poll.
extern const int16_t CV4L2_POLLIN;
extern const int16_t CV4L2_POLLERR;
extern const int16_t CV4L2_POLLHUP;

/// What VIDIOC_QUERYCAP says, with the per-node capabilities when the driver reports them.
typedef struct {
    char driver[16];
    char card[32];
    char bus_info[32];
    uint32_t version;
    uint32_t capabilities;
} cv4l2_caps;

/// One dequeued buffer.
typedef struct {
    uint32_t index;
    uint32_t bytesused;
    uint32_t flags;
    uint32_t sequence;
    int64_t timestamp_sec;
    int64_t timestamp_usec;
} cv4l2_dequeued;

/// Opens a video node through libv4l2, read-write and non-blocking.
int cv4l2_open(const char *path);
/// Closes a node opened with cv4l2_open.
int cv4l2_close(int fd);
/// VIDIOC_QUERYCAP.
int cv4l2_querycap(int fd, cv4l2_caps *out);
/// VIDIOC_ENUM_FMT for video capture; `description` gets at least 32 bytes.
int cv4l2_enum_format(int fd, uint32_t index, uint32_t *fourcc, uint32_t *flags, char *description);
/// VIDIOC_ENUM_FRAMESIZES; `kind` is 1 discrete, 2 continuous, 3 stepwise (then min/max sizes).
int cv4l2_enum_framesize(int fd, uint32_t fourcc, uint32_t index, uint32_t *kind,
                         uint32_t *width, uint32_t *height, uint32_t *max_width, uint32_t *max_height);
/// VIDIOC_G_FMT for video capture: the format the node is set to now.
int cv4l2_get_format(int fd, uint32_t *width, uint32_t *height, uint32_t *fourcc,
                     uint32_t *bytesperline, uint32_t *sizeimage);
/// VIDIOC_S_FMT for video capture, progressive; in-out: the driver writes back what it chose.
int cv4l2_set_format(int fd, uint32_t *width, uint32_t *height, uint32_t *fourcc,
                     uint32_t *bytesperline, uint32_t *sizeimage);
/// VIDIOC_S_PARM time per frame; in-out numerator/denominator of the frame interval.
int cv4l2_set_interval(int fd, uint32_t *numerator, uint32_t *denominator);
/// VIDIOC_REQBUFS with MMAP memory; returns the count the driver granted.
int cv4l2_request_buffers(int fd, uint32_t count);
/// VIDIOC_QUERYBUF then v4l2_mmap; returns the mapping (NULL on failure) and its length.
void *cv4l2_map_buffer(int fd, uint32_t index, size_t *length);
/// v4l2_munmap.
int cv4l2_unmap_buffer(void *start, size_t length);
/// VIDIOC_QBUF of an MMAP buffer.
int cv4l2_queue(int fd, uint32_t index);
/// VIDIOC_DQBUF; -1 with errno EAGAIN when no buffer is ready.
int cv4l2_dequeue(int fd, cv4l2_dequeued *out);
/// VIDIOC_STREAMON.
int cv4l2_stream_on(int fd);
/// VIDIOC_STREAMOFF.
int cv4l2_stream_off(int fd);
/// poll(2) for input; returns 0 on timeout, else 1 and the events in `revents`.
int cv4l2_poll(int fd, int timeout_ms, int16_t *revents);

#ifdef __cplusplus
}
#endif
#endif
