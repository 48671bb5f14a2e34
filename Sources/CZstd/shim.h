// Debian's libzstd-dev; chunk compression for MCAP recordings.
#include <zstd.h>
