"""Misbehaving peers for the publisher's limits tests (issue 13.1), all against one tcp endpoint.

    abusive_peer.py ENDPOINT big-subscription BYTES     one raw ZMTP peer subscribing to a BYTES-long topic
                                                        (libzmq's own SUB overflows its stack on that)
    abusive_peer.py ENDPOINT many-subscriptions N       one SUB with N distinct 200-byte subscriptions
    abusive_peer.py ENDPOINT huge-frame PEERS           PEERS raw ZMTP peers, each declaring a 4 GiB
                                                        message and then streaming 32 MiB of it
    abusive_peer.py ENDPOINT subscribe                  one well-behaved SUB (the test SIGSTOPs it)

Prints one line per event ("connected", "closed by server after N bytes", ...) and then sleeps
until killed, so the server side decides when the connection ends.
"""
import socket, struct, sys, time
import zmq


def sub_socket(endpoint):
    ctx = zmq.Context()
    s = ctx.socket(zmq.SUB)
    s.setsockopt(zmq.LINGER, 0)
    s.connect(endpoint)
    return s


def greeting():
    # ZMTP 3.0: signature, version 3.0, NULL mechanism, as-server 0, filler.
    return b"\xff" + b"\x00" * 8 + b"\x7f" + b"\x03\x00" + b"NULL".ljust(20, b"\x00") + b"\x00" + b"\x00" * 31


def ready_command():
    prop = b"\x0bSocket-Type" + struct.pack(">I", 3) + b"SUB"
    body = b"\x05READY" + prop
    return bytes([0x04, len(body)]) + body


def raw_peer(endpoint):
    host, port = endpoint[len("tcp://"):].rsplit(":", 1)
    c = socket.create_connection((host, int(port)))
    c.sendall(greeting())
    c.recv(64)
    c.sendall(ready_command())
    return c


def big_subscription(endpoint, size):
    c = raw_peer(endpoint)
    body = b"\x01" + b"x" * size
    try:
        c.sendall(bytes([0x02]) + struct.pack(">Q", len(body)) + body)
        print("subscription sent", flush=True)
    except OSError:
        print("closed by server", flush=True)
    return c


def huge_frame(endpoint, peers):
    conns = []
    for _ in range(peers):
        c = raw_peer(endpoint)
        # A long message frame (flag 0x02) declaring 4 GiB.
        c.sendall(bytes([0x02]) + struct.pack(">Q", 4 << 30))
        conns.append(c)
    print("declared", peers, flush=True)
    chunk = b"\x01" * (1 << 20)
    for c in conns:
        sent = 0
        try:
            while sent < 32 << 20:
                c.sendall(chunk)
                sent += len(chunk)
            print("server accepted", sent, "bytes", flush=True)
        except OSError:
            print("closed by server after", sent, "bytes", flush=True)


def main():
    endpoint, mode = sys.argv[1], sys.argv[2]
    arg = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    if mode == "big-subscription":
        c = big_subscription(endpoint, arg)
    elif mode == "many-subscriptions":
        s = sub_socket(endpoint)
        for i in range(arg):
            s.setsockopt(zmq.SUBSCRIBE, (b"%08d" % i) * 25)
    elif mode == "huge-frame":
        huge_frame(endpoint, arg)
    elif mode == "subscribe":
        s = sub_socket(endpoint)
        s.setsockopt(zmq.SUBSCRIBE, b"")
    else:
        sys.exit(f"unknown mode {mode}")
    print("connected", flush=True)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
