// Debian's libzmq3-dev (libzmq 4.3); the publisher and subscriber of the Wire target.
#include <zmq.h>
