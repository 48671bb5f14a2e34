#include "CV4L2.h"

#include <errno.h>
#include <fcntl.h>
#include <libv4l2.h>
#include <linux/videodev2.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

const uint32_t CV4L2_PIX_FMT_YUYV = V4L2_PIX_FMT_YUYV;
const uint32_t CV4L2_PIX_FMT_RGB24 = V4L2_PIX_FMT_RGB24;
const uint32_t CV4L2_PIX_FMT_BGR24 = V4L2_PIX_FMT_BGR24;
const uint32_t CV4L2_PIX_FMT_MJPEG = V4L2_PIX_FMT_MJPEG;
const uint32_t CV4L2_PIX_FMT_GREY = V4L2_PIX_FMT_GREY;
const uint32_t CV4L2_CAP_VIDEO_CAPTURE = V4L2_CAP_VIDEO_CAPTURE;
const uint32_t CV4L2_CAP_STREAMING = V4L2_CAP_STREAMING;
const uint32_t CV4L2_FMT_FLAG_COMPRESSED = V4L2_FMT_FLAG_COMPRESSED;
const uint32_t CV4L2_FMT_FLAG_EMULATED = V4L2_FMT_FLAG_EMULATED;
const uint32_t CV4L2_BUF_FLAG_TIMESTAMP_MASK = V4L2_BUF_FLAG_TIMESTAMP_MASK;
const uint32_t CV4L2_BUF_FLAG_TIMESTAMP_MONOTONIC = V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC;
const uint32_t CV4L2_BUF_FLAG_ERROR = V4L2_BUF_FLAG_ERROR;
const int16_t CV4L2_POLLIN = POLLIN;
const int16_t CV4L2_POLLERR = POLLERR;
const int16_t CV4L2_POLLHUP = POLLHUP;

static int xioctl(int fd, unsigned long request, void *arg) {
    int r;
    do {
        r = v4l2_ioctl(fd, request, arg);
    } while (r == -1 && errno == EINTR);
    return r;
}

int cv4l2_open(const char *path) {
    int fd;
    do {
        fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    } while (fd == -1 && errno == EINTR);
    if (fd == -1) return -1;
    // libv4l2 prints to stderr when a node is not V4L2; ask first so the caller reports it once.
    struct v4l2_capability cap;
    memset(&cap, 0, sizeof cap);
    int r;
    do {
        r = ioctl(fd, VIDIOC_QUERYCAP, &cap);
    } while (r == -1 && errno == EINTR);
    if (r == -1) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    if (v4l2_fd_open(fd, 0) == -1) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int cv4l2_close(int fd) { return v4l2_close(fd); }

static void copy_string(char *dst, const unsigned char *src, size_t size) {
    memcpy(dst, src, size);
    dst[size - 1] = '\0';
}

int cv4l2_querycap(int fd, cv4l2_caps *out) {
    struct v4l2_capability cap;
    memset(&cap, 0, sizeof cap);
    if (xioctl(fd, VIDIOC_QUERYCAP, &cap) == -1) return -1;
    copy_string(out->driver, cap.driver, sizeof out->driver);
    copy_string(out->card, cap.card, sizeof out->card);
    copy_string(out->bus_info, cap.bus_info, sizeof out->bus_info);
    out->version = cap.version;
    // A device with several nodes reports the union in `capabilities`; this node's own are in device_caps.
    out->capabilities = (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps : cap.capabilities;
    return 0;
}

int cv4l2_enum_format(int fd, uint32_t index, uint32_t *fourcc, uint32_t *flags, char *description) {
    struct v4l2_fmtdesc desc;
    memset(&desc, 0, sizeof desc);
    desc.index = index;
    desc.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    if (xioctl(fd, VIDIOC_ENUM_FMT, &desc) == -1) return -1;
    *fourcc = desc.pixelformat;
    *flags = desc.flags;
    copy_string(description, desc.description, sizeof desc.description);
    return 0;
}

int cv4l2_enum_framesize(int fd, uint32_t fourcc, uint32_t index, uint32_t *kind,
                         uint32_t *width, uint32_t *height, uint32_t *max_width, uint32_t *max_height) {
    struct v4l2_frmsizeenum size;
    memset(&size, 0, sizeof size);
    size.index = index;
    size.pixel_format = fourcc;
    if (xioctl(fd, VIDIOC_ENUM_FRAMESIZES, &size) == -1) return -1;
    *kind = size.type;
    if (size.type == V4L2_FRMSIZE_TYPE_DISCRETE) {
        *width = *max_width = size.discrete.width;
        *height = *max_height = size.discrete.height;
    } else {
        *width = size.stepwise.min_width;
        *height = size.stepwise.min_height;
        *max_width = size.stepwise.max_width;
        *max_height = size.stepwise.max_height;
    }
    return 0;
}

/// The capture format the driver reports (after G_FMT, or as adjusted by S_FMT).
static void format_out(const struct v4l2_format *fmt, uint32_t *width, uint32_t *height, uint32_t *fourcc,
                       uint32_t *bytesperline, uint32_t *sizeimage) {
    *width = fmt->fmt.pix.width;
    *height = fmt->fmt.pix.height;
    *fourcc = fmt->fmt.pix.pixelformat;
    *bytesperline = fmt->fmt.pix.bytesperline;
    *sizeimage = fmt->fmt.pix.sizeimage;
}

int cv4l2_get_format(int fd, uint32_t *width, uint32_t *height, uint32_t *fourcc,
                     uint32_t *bytesperline, uint32_t *sizeimage) {
    struct v4l2_format fmt;
    memset(&fmt, 0, sizeof fmt);
    fmt.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    if (xioctl(fd, VIDIOC_G_FMT, &fmt) == -1) return -1;
    format_out(&fmt, width, height, fourcc, bytesperline, sizeimage);
    return 0;
}

int cv4l2_set_format(int fd, uint32_t *width, uint32_t *height, uint32_t *fourcc,
                     uint32_t *bytesperline, uint32_t *sizeimage) {
    struct v4l2_format fmt;
    memset(&fmt, 0, sizeof fmt);
    fmt.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    fmt.fmt.pix.width = *width;
    fmt.fmt.pix.height = *height;
    fmt.fmt.pix.pixelformat = *fourcc;
    fmt.fmt.pix.field = V4L2_FIELD_NONE;
    if (xioctl(fd, VIDIOC_S_FMT, &fmt) == -1) return -1;
    format_out(&fmt, width, height, fourcc, bytesperline, sizeimage);
    return 0;
}

int cv4l2_set_interval(int fd, uint32_t *numerator, uint32_t *denominator) {
    struct v4l2_streamparm parm;
    memset(&parm, 0, sizeof parm);
    parm.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    parm.parm.capture.timeperframe.numerator = *numerator;
    parm.parm.capture.timeperframe.denominator = *denominator;
    if (xioctl(fd, VIDIOC_S_PARM, &parm) == -1) return -1;
    *numerator = parm.parm.capture.timeperframe.numerator;
    *denominator = parm.parm.capture.timeperframe.denominator;
    return 0;
}

int cv4l2_request_buffers(int fd, uint32_t count) {
    struct v4l2_requestbuffers req;
    memset(&req, 0, sizeof req);
    req.count = count;
    req.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    req.memory = V4L2_MEMORY_MMAP;
    if (xioctl(fd, VIDIOC_REQBUFS, &req) == -1) return -1;
    return (int)req.count;
}

void *cv4l2_map_buffer(int fd, uint32_t index, size_t *length) {
    struct v4l2_buffer buf;
    memset(&buf, 0, sizeof buf);
    buf.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    buf.memory = V4L2_MEMORY_MMAP;
    buf.index = index;
    if (xioctl(fd, VIDIOC_QUERYBUF, &buf) == -1) return NULL;
    void *start = v4l2_mmap(NULL, buf.length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, buf.m.offset);
    if (start == MAP_FAILED) return NULL;
    *length = buf.length;
    return start;
}

int cv4l2_unmap_buffer(void *start, size_t length) { return v4l2_munmap(start, length); }

int cv4l2_queue(int fd, uint32_t index) {
    struct v4l2_buffer buf;
    memset(&buf, 0, sizeof buf);
    buf.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    buf.memory = V4L2_MEMORY_MMAP;
    buf.index = index;
    return xioctl(fd, VIDIOC_QBUF, &buf);
}

int cv4l2_dequeue(int fd, cv4l2_dequeued *out) {
    struct v4l2_buffer buf;
    memset(&buf, 0, sizeof buf);
    buf.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    buf.memory = V4L2_MEMORY_MMAP;
    if (xioctl(fd, VIDIOC_DQBUF, &buf) == -1) return -1;
    out->index = buf.index;
    out->bytesused = buf.bytesused;
    out->flags = buf.flags;
    out->sequence = buf.sequence;
    out->timestamp_sec = buf.timestamp.tv_sec;
    out->timestamp_usec = buf.timestamp.tv_usec;
    return 0;
}

int cv4l2_stream_on(int fd) {
    int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    return xioctl(fd, VIDIOC_STREAMON, &type);
}

int cv4l2_stream_off(int fd) {
    int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    return xioctl(fd, VIDIOC_STREAMOFF, &type);
}

int cv4l2_poll(int fd, int timeout_ms, int16_t *revents) {
    struct pollfd p = {.fd = fd, .events = POLLIN, .revents = 0};
    int r;
    do {
        r = poll(&p, 1, timeout_ms);
    } while (r == -1 && errno == EINTR);
    if (r > 0) *revents = p.revents;
    return r;
}
