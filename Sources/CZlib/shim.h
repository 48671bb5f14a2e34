// Debian's zlib1g-dev; inflate for PNG images given to `moeseg infer --image`.
#include <zlib.h>
