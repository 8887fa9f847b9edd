"""The frame format of docs/protocol.md, for riff's Python shim: standard library only."""
import os
import struct
import threading

READY, INIT_FAILED, INVOKE, REPLY, ERROR = 1, 2, 3, 4, 5
STREAM_OPEN, STREAM_INPUT, STREAM_OUTPUT, STREAM_END, SHUTDOWN = 6, 7, 8, 9, 10
LOAD = 11
MAX_FRAME_BYTES = 64 * 1024 * 1024


class Channel:
    """Frames over a file descriptor (fd 3, a Unix socket); writes are whole frames, under a lock.
    Plain os.read/os.write: the socket module would add milliseconds to every start."""

    def __init__(self, fd):
        self.fd = fd
        self.lock = threading.Lock()
        self.buf = bytearray()

    def send(self, ftype, fid, headers, payload=b""):
        parts = [b""]
        count = 0
        for name, values in headers.items():
            n = name.encode("utf-8")
            for value in values if isinstance(values, list) else [values]:
                v = value.encode("utf-8")
                parts.append(struct.pack(">H", len(n)) + n + struct.pack(">I", len(v)) + v)
                count += 1
        body = b"".join(parts[1:])
        head = struct.pack(">IBIH", 7 + len(body) + len(payload), ftype, fid, count)
        data = memoryview(head + body + payload)
        with self.lock:
            while data:
                data = data[os.write(self.fd, data):]

    def _read(self, n):
        while len(self.buf) < n:
            chunk = os.read(self.fd, max(65536, n - len(self.buf)))
            if not chunk:
                return None
            self.buf += chunk
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def receive(self):
        """The next frame as (type, id, headers, payload); None at EOF."""
        prefix = self._read(4)
        if prefix is None:
            return None
        (length,) = struct.unpack(">I", prefix)
        if length < 7 or length > MAX_FRAME_BYTES:
            raise ValueError("RIFF_PROTOCOL_ERROR: bad frame length %d" % length)
        frame = self._read(length)
        if frame is None:
            return None
        ftype, fid, count = struct.unpack_from(">BIH", frame, 0)
        o = 7
        headers = {}
        for _ in range(count):
            if o + 2 > length:
                raise ValueError("RIFF_PROTOCOL_ERROR: header runs past the frame")
            (nlen,) = struct.unpack_from(">H", frame, o)
            name = frame[o + 2:o + 2 + nlen].decode("utf-8").lower()
            o += 2 + nlen
            if o + 4 > length:
                raise ValueError("RIFF_PROTOCOL_ERROR: header runs past the frame")
            (vlen,) = struct.unpack_from(">I", frame, o)
            if o + 4 + vlen > length:
                raise ValueError("RIFF_PROTOCOL_ERROR: header runs past the frame")
            headers.setdefault(name, []).append(frame[o + 4:o + 4 + vlen].decode("utf-8"))
            o += 4 + vlen
        return ftype, fid, headers, frame[o:]

    def close(self):
        os.close(self.fd)
