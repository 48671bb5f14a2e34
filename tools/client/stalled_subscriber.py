"""A subscriber that connects, subscribes to everything and never reads: the worst planner.
Run it next to `moeseg run` and compare the daemon's frame latency (status p50/p99) with and
without it (issue 6, acceptance 2). Exits after --seconds, or on SIGTERM/SIGINT.

    stalled_subscriber.py (--endpoint E | --stream S) [--seconds N] [--rcvhwm 1]
"""
import argparse, signal, sys, time
import zmq


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint"), ap.add_argument("--stream", default="cam0")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--rcvhwm", type=int, default=1)
    a = ap.parse_args()
    endpoint = a.endpoint or f"ipc:///run/moeseg/{a.stream}.sock"
    sock = zmq.Context.instance().socket(zmq.SUB)
    sock.rcvhwm = a.rcvhwm
    sock.setsockopt_string(zmq.SUBSCRIBE, "")
    sock.connect(endpoint)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"stalled subscriber on {endpoint} for {a.seconds} s", flush=True)
    try:
        time.sleep(a.seconds)
    except KeyboardInterrupt:
        pass
    sock.close(linger=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
