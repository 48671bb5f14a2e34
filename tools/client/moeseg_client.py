"""Minimal moeseg subscriber: pyzmq + numpy + the generated moeseg.v1 module (see docs/wire-format.md)."""
import os, sys
import numpy as np, zmq
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moeseg.v1 import meta_pb2, ood_pb2, segmentation_pb2, status_pb2, uncertainty_pb2  # noqa: E402

TYPES = {"seg": segmentation_pb2.Segmentation, "unc": uncertainty_pb2.UncertaintyMap,
         "ood": ood_pb2.OodVerdict, "status": status_pb2.Status, "meta": meta_pb2.Meta}
DTYPES = {uncertainty_pb2.MAP_ENCODING_F16: "<f2", uncertainty_pb2.MAP_ENCODING_F32: "<f4"}


def decode_array(msg):
    """Segmentation → uint8 HxW class ids; UncertaintyMap → float32 HxW values; else None."""
    shape = (msg.height, msg.width) if hasattr(msg, "height") else None
    if isinstance(msg, segmentation_pb2.Segmentation):
        return np.frombuffer(msg.class_ids, np.uint8).reshape(shape)
    if isinstance(msg, uncertainty_pb2.UncertaintyMap):
        if msg.encoding == uncertainty_pb2.MAP_ENCODING_U8_SCALED:
            q = np.frombuffer(msg.data, np.uint8).astype(np.float32)
            return (msg.offset + q * np.float32(msg.scale)).reshape(shape)
        return np.frombuffer(msg.data, DTYPES[msg.encoding]).astype(np.float32).reshape(shape)
    return None


def subscribe(endpoint, topics=("",), server_key=None, timeout_ms=-1):
    """Yields (topic, message, array or None) per message, and None after each timeout_ms of silence
    (raising zmq.Again out of a generator would end it: a slow start must not end the stream)."""
    sock = zmq.Context.instance().socket(zmq.SUB)
    sock.rcvtimeo = timeout_ms
    if server_key:  # CURVE: the server's Z85 public key, a fresh client key pair
        sock.curve_serverkey = server_key.encode()
        sock.curve_publickey, sock.curve_secretkey = zmq.curve_keypair()
    for t in topics:
        sock.setsockopt_string(zmq.SUBSCRIBE, t)
    sock.connect(endpoint)
    while True:
        try:
            topic, body = sock.recv_multipart()
        except zmq.Again:
            yield None
            continue
        topic = topic.decode()
        msg = TYPES[topic.rsplit("/", 1)[1]].FromString(body)
        yield topic, msg, decode_array(msg)
