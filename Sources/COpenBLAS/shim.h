// OpenBLAS's own cblas.h (pkg-config adds its include dir), not the alternatives symlink,
// so that openblas_set_num_threads is always there.
#include <cblas.h>
