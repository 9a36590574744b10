#!/usr/bin/python3 -I
# SPDX-License-Identifier: GPL-2.0
"""pyvsock: vsock between Xen guests through af_xen_vsock, from Python's
own socket.AF_VSOCK (standard library only), beside test/xvsock.c.

  pyvsock.py serve PORT       stream echo on PORT, seqpacket echo (each
                              record back whole, MSG_EOR kept) on PORT + 1;
                              runs until killed
  pyvsock.py check CID PORT   checks against "serve" in CID (one TAP line each)

  --family unix               debug: the same code over AF_UNIX sockets
                              /tmp/pyvsock-PORT and -PORT+1 (CID ignored)

One TAP line per check, "ok - python: ..." or "not ok - python: ... # why";
check exits 1 if any failed, 2 on bad usage.  Every socket has a timeout,
and the whole check an alarm, so it never hangs.
"""
import fcntl
import os
import random
import select
import signal
import socket
import struct
import sys
import time

TIMEOUT = 30            # seconds without progress on one socket
CONNECT_RETRY = 15      # seconds to retry a connect the listener refuses
ALARM = 300             # seconds for the whole check
STREAM_BYTES = 4 << 20
RECORDS = 200
RECORD_MAX = 8000
# <linux/vm_sockets.h>: _IO(7, 0xb9); Python 3.11 has the constant but no
# socket.get_local_cid()
IOCTL_GET_LOCAL_CID = getattr(socket, "IOCTL_VM_SOCKETS_GET_LOCAL_CID", 0x7b9)

family = "vsock"
failures = 0


def tap(ok, name, why=""):
    global failures
    if ok:
        print("ok - python: " + name, flush=True)
    else:
        failures += 1
        print("not ok - python: %s # %s" % (name, why), flush=True)


def note(text):
    print("# pyvsock: " + text, flush=True)


def addr(cid, port):
    if family == "unix":
        return "/tmp/pyvsock-%d" % port
    return (cid, port)


def new_socket(kind):
    if family == "unix":
        return socket.socket(socket.AF_UNIX, kind)
    return socket.socket(socket.AF_VSOCK, kind)


# ----- serve -----

def listener(kind, port):
    s = new_socket(kind)
    a = addr(socket.VMADDR_CID_ANY if family == "vsock" else 0, port)
    if family == "unix":
        try:
            os.unlink(a)
        except FileNotFoundError:
            pass
    s.bind(a)
    s.listen(64)
    return s


def echo_stream(c):
    while True:
        b = c.recv(1 << 16)
        if not b:
            break
        c.sendall(b)


def echo_records(c):
    while True:
        data, _, flags, _ = c.recvmsg(1 << 16)
        # 0 bytes is the end, unless it is an empty record with MSG_EOR
        if not data and not flags & socket.MSG_EOR:
            break
        c.sendmsg([data], [], flags & socket.MSG_EOR)


def serve(port):
    ls = {listener(socket.SOCK_STREAM, port): echo_stream,
          listener(socket.SOCK_SEQPACKET, port + 1): echo_records}
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)   # children reap themselves
    note("serving stream echo on port %d, seqpacket echo on %d (%s)"
         % (port, port + 1, family))
    while True:
        r, _, _ = select.select(list(ls), [], [])
        for l in r:
            try:
                c, _ = l.accept()
            except OSError:
                continue
            if os.fork() == 0:
                rc = 0
                try:
                    for x in ls:
                        x.close()
                    c.settimeout(120)
                    ls[l](c)
                except OSError as e:
                    print("pyvsock serve: %s" % e, file=sys.stderr)
                    rc = 1
                finally:
                    c.close()
                    os._exit(rc)
            c.close()


# ----- check -----

def connect(kind, cid, port):
    """Connect with a timeout; retry while nothing listens yet (vsock says
    ECONNRESET, AF_UNIX ECONNREFUSED or ENOENT) for CONNECT_RETRY s."""
    deadline = time.monotonic() + CONNECT_RETRY
    while True:
        s = new_socket(kind)
        s.settimeout(TIMEOUT)
        try:
            s.connect(addr(cid, port))
            return s
        except (ConnectionResetError, ConnectionRefusedError,
                FileNotFoundError):
            s.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
        except BaseException:
            s.close()
            raise


def local_cid():
    """IOCTL_VM_SOCKETS_GET_LOCAL_CID on /dev/vsock, made from sysfs if the
    guest has no udev."""
    if not os.path.exists("/dev/vsock"):
        try:
            with open("/sys/class/misc/vsock/dev") as f:
                maj, mnr = f.read().split(":")
            os.mknod("/dev/vsock", 0o666 | 0o020000,
                     os.makedev(int(maj), int(mnr)))
        except OSError:
            pass
    fd = os.open("/dev/vsock", os.O_RDONLY)
    try:
        buf = fcntl.ioctl(fd, IOCTL_GET_LOCAL_CID, bytes(4))
    finally:
        os.close(fd)
    return struct.unpack("I", buf)[0]


def check_addressing():
    if family == "unix":
        note("AF_UNIX: no local CID to read")
        return
    me = os.environ.get("MY_DOMID")
    try:
        cid = local_cid()
        why = "CID %d, MY_DOMID %s" % (cid, me or "unset")
        ok = me is None or cid == int(me) + 2
    except OSError as e:
        cid, why, ok = None, "/dev/vsock: %s" % e, False
    note("socket.AF_VSOCK %d, local CID %s" % (socket.AF_VSOCK, cid))
    tap(ok, "IOCTL_VM_SOCKETS_GET_LOCAL_CID on /dev/vsock gives this "
        "domain's CID (domain id + 2)", why)


def buffer_size(s):
    if family == "unix":
        return s.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
    # CPython reads AF_VSOCK options as 64-bit integers itself, and
    # refuses a buffer length for them.
    return s.getsockopt(socket.AF_VSOCK, socket.SO_VM_SOCKETS_BUFFER_SIZE)


def stream_echo(s, data):
    """Send DATA and read it back at the same time (select), so neither end
    blocks in send with both buffers full.  Returns what came back."""
    total, sent, got = len(data), 0, bytearray()
    view = memoryview(data)
    s.setblocking(False)
    while len(got) < total:
        w = [s] if sent < total else []
        r, w, _ = select.select([s], w, [], TIMEOUT)
        if not r and not w:
            raise TimeoutError("no progress for %d s (sent %d, got %d)"
                               % (TIMEOUT, sent, len(got)))
        if w:
            try:
                sent += s.send(view[sent:sent + (1 << 16)])
            except BlockingIOError:
                pass
        if r:
            try:
                b = s.recv(1 << 16)
            except BlockingIOError:
                continue
            if not b:
                raise EOFError("EOF after %d of %d bytes" % (len(got), total))
            got += b
    s.settimeout(TIMEOUT)
    return bytes(got)


def check_stream(cid, port):
    name = "stream: 4 MiB of pseudo-random bytes echoed, every byte checked"
    data = random.Random(port).randbytes(STREAM_BYTES)
    try:
        s = connect(socket.SOCK_STREAM, cid, port)
    except OSError as e:
        tap(False, "stream: connect", str(e))
        return
    with s:
        try:
            size = buffer_size(s)
            note("SO_VM_SOCKETS_BUFFER_SIZE %d" % size)
            tap(size > 0, "stream: SO_VM_SOCKETS_BUFFER_SIZE reads back "
                "through getsockopt", "got %d" % size)
        except OSError as e:
            tap(False, "stream: SO_VM_SOCKETS_BUFFER_SIZE reads back "
                "through getsockopt", str(e))
        t = time.monotonic()
        try:
            back = stream_echo(s, data)
        except (OSError, EOFError) as e:
            tap(False, name, str(e))
            return
        t = time.monotonic() - t
        if back != data:
            i = next(i for i in range(len(data)) if back[i] != data[i])
            tap(False, name, "first difference at byte %d" % i)
            return
        tap(True, name)
        note("stream echo: %d bytes each way in %.2f s" % (len(data), t))
        try:
            s.shutdown(socket.SHUT_WR)
            rest = s.recv(1)
            tap(rest == b"", "stream: EOF back after shutdown(SHUT_WR)",
                "got %r" % rest)
        except OSError as e:
            tap(False, "stream: EOF back after shutdown(SHUT_WR)", str(e))


def record(i):
    """Record i of RECORDS: sizes 0 to RECORD_MAX, MSG_EOR on odd ones and on
    the empty one (an empty record without it would read as the end)."""
    n = i * RECORD_MAX // (RECORDS - 1)
    data = random.Random(i).randbytes(n)
    return data, socket.MSG_EOR if i & 1 or not n else 0


def check_records(cid, port):
    name = ("seqpacket: %d records of 0 to %d bytes echoed whole (length, "
            "bytes and MSG_EOR checked)" % (RECORDS, RECORD_MAX))
    try:
        s = connect(socket.SOCK_SEQPACKET, cid, port + 1)
    except OSError as e:
        tap(False, "seqpacket: connect", str(e))
        return
    with s:
        why, empty = "", None
        try:
            for i in range(RECORDS):
                data, eor = record(i)
                if not data and family == "unix":
                    continue    # AF_UNIX reports no MSG_EOR: reads as EOF
                n = s.sendmsg([data], [], eor)
                if n != len(data):
                    why = "record %d: sent %d of %d bytes" % (i, n, len(data))
                    break
                if not data:
                    # The vsock core (vsock_connectible_sendmsg) queues
                    # nothing for a 0-byte send: nothing may come back.
                    # Should a core ever send it, it must be whole.
                    empty = i
                    continue
                back, _, flags, _ = s.recvmsg(RECORD_MAX + 1)
                if empty is not None and not back:
                    if not flags & socket.MSG_EOR:
                        why = "empty record %d back without MSG_EOR" % empty
                        break
                    note("the empty record came back (a core that sends "
                         "0-byte records)")
                    empty = None
                    back, _, flags, _ = s.recvmsg(RECORD_MAX + 1)
                if len(back) != len(data) or back != data:
                    why = ("record %d: sent %d bytes, got %d%s" %
                           (i, len(data), len(back),
                            "" if len(back) != len(data) else ", different"))
                    break
                if flags & socket.MSG_TRUNC:
                    why = "record %d: MSG_TRUNC" % i
                    break
                if family == "vsock" and \
                        bool(flags & socket.MSG_EOR) != bool(eor):
                    why = "record %d: MSG_EOR %s, sent %s" % (
                        i, bool(flags & socket.MSG_EOR), bool(eor))
                    break
            if empty is not None:
                note("the empty record sent nothing, as the vsock core does")
        except OSError as e:
            why = "record %d: %s" % (i, e)
        tap(not why, name, why)
        tname = ("seqpacket: a 3000-byte record read into 100 bytes comes "
                 "with MSG_TRUNC and the rest is dropped")
        try:
            s.sendmsg([b"b" * 3000], [], socket.MSG_EOR)
            s.sendmsg([b"after"], [], socket.MSG_EOR)
            back, _, flags, _ = s.recvmsg(100)
            after, _, _, _ = s.recvmsg(100)
            tap(len(back) == 100 and flags & socket.MSG_TRUNC and
                after == b"after", tname,
                "got %d bytes, flags %#x, then %r" % (len(back), flags, after))
        except OSError as e:
            tap(False, tname, str(e))


def on_alarm(signum, frame):
    tap(False, "check finished", "still running after %d s" % ALARM)
    os._exit(1)


def check(cid, port):
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(ALARM)
    check_addressing()
    check_stream(cid, port)
    check_records(cid, port)
    return 1 if failures else 0


def usage():
    print(__doc__.strip(), file=sys.stderr)
    return 2


def main(argv):
    global family
    args = []
    it = iter(argv)
    for a in it:
        if a in ("-h", "--help"):
            print(__doc__.strip())
            return 0
        if a == "--family":
            family = next(it, "")
            if family not in ("vsock", "unix"):
                return usage()
        else:
            args.append(a)
    try:
        if len(args) == 2 and args[0] == "serve":
            serve(int(args[1]))
        elif len(args) == 3 and args[0] == "check":
            return check(int(args[1]), int(args[2]))
    except ValueError:
        pass
    return usage()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
