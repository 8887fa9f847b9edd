"""riff's Python 3 shim: loads one function and answers the daemon's frames on fd 3.

Standard library only, and only cheap modules at start: its import time is part of every cold
start. The invoker runs `python3 -S -c "import _riff_shim; _riff_shim.main()"` with this folder
on sys.path, so that this module is byte-compiled once instead of on every start. Environment:
  RIFF_FUNCTION_ARTIFACT  the .py file (or a folder holding the module)
  RIFF_FUNCTION_HANDLER   the function's name, or module.function; default: the file's name
  RIFF_PYTHON_SITE        site-packages folders, os.pathsep-separated (the interpreter runs with -S)
"""
import os
import sys
import threading
import time

from _riff_content import ContentError, check, decode, encode
from _riff_frames import (ERROR, INIT_FAILED, INVOKE, LOAD, READY, REPLY, SHUTDOWN, STREAM_END, STREAM_INPUT,
                          STREAM_OPEN, STREAM_OUTPUT, Channel)

WORKERS = 16


SHIM_DIR = os.path.dirname(os.path.abspath(__file__))
# Code flags, read directly: importing `inspect` would cost milliseconds of every cold start.
CO_COROUTINE, CO_GENERATOR, CO_ASYNC_GENERATOR = 0x80, 0x20, 0x200


def code_flags(fn):
    code = getattr(fn, "__code__", None) or getattr(getattr(fn, "__call__", None), "__code__", None)
    return (code.co_flags, code.co_argcount) if code is not None else (0, 1)


def user_traceback(err):
    """The traceback without the shim's and importlib's frames: only what the user wrote."""
    import traceback
    if isinstance(err, SyntaxError):
        return "".join(traceback.format_exception_only(type(err), err))
    frames = [f for f in traceback.extract_tb(err.__traceback__)
              if os.path.dirname(f.filename) != SHIM_DIR and "importlib" not in f.filename
              and "concurrent" not in f.filename and "asyncio" not in f.filename]
    lines = ["Traceback (most recent call last):\n"] if frames else []
    lines += traceback.format_list(frames) + traceback.format_exception_only(type(err), err)
    return "".join(lines)


def error_body(err, code):
    import json
    if isinstance(err, ContentError):
        return json.dumps({"name": "ContentError", "code": err.code, "message": str(err)}).encode("utf-8")
    return json.dumps({"name": type(err).__name__, "code": code, "message": str(err) or type(err).__name__,
                       "stack": user_traceback(err)}).encode("utf-8")


# ---- loading ------------------------------------------------------------------------------

def load():
    artifact = os.environ.get("RIFF_FUNCTION_ARTIFACT")
    if not artifact:
        raise RuntimeError("RIFF_FUNCTION_ARTIFACT is not set")
    handler = os.environ.get("RIFF_FUNCTION_HANDLER") or ""
    folder = artifact if os.path.isdir(artifact) else os.path.dirname(artifact)
    sys.path.insert(0, folder)
    for site in (os.environ.get("RIFF_PYTHON_SITE") or "").split(os.pathsep):
        if site and site not in sys.path:
            sys.path.append(site)
    if "." in handler:
        module_name, _, fn_name = handler.rpartition(".")
    elif os.path.isdir(artifact):
        raise LookupError("the artifact is a folder: pass --handler module.function to say which function to run")
    else:
        module_name = None
        fn_name = handler or os.path.splitext(os.path.basename(artifact))[0]
    try:
        module = _import(artifact, module_name)
    except ImportError:
        # Site-packages are on sys.path, but their .pth files did not run (-S, to start faster).
        # Some packages need them: run the interpreter's usual site setup and try once more.
        import site
        site.main()
        module = _import(artifact, module_name)
    fn = getattr(module, fn_name, None)
    if not callable(fn):
        names = [n for n, v in vars(module).items() if callable(v) and hasattr(v, "__code__") and not n.startswith("_")]
        raise LookupError("%s has no function '%s'; pass --handler NAME (it defines: %s)"
                          % (getattr(module, "__file__", artifact), fn_name, ", ".join(names) or "no functions"))
    return module, fn


def _import(artifact, module_name):
    import importlib
    if module_name is not None:
        return importlib.import_module(module_name)
    import importlib.util
    name = os.path.splitext(os.path.basename(artifact))[0]
    spec = importlib.util.spec_from_file_location(name, artifact)
    if spec is None or spec.loader is None:
        raise ImportError("cannot load %s as a Python module" % artifact)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


# ---- running ------------------------------------------------------------------------------

class WorkerPool:
    """Up to `size` daemon threads, started as work needs them. Not concurrent.futures: it
    imports logging and more, tens of milliseconds of a cold start."""

    def __init__(self, size):
        from _queue import SimpleQueue
        self.size = size
        self.queue = SimpleQueue()
        self.lock = threading.Lock()
        self.threads = 0
        self.idle = 0

    def submit(self, fn, *args):
        with self.lock:
            if self.idle <= 0 and self.threads < self.size:
                self.threads += 1
                threading.Thread(target=self._work, name="riff-worker-%d" % self.threads, daemon=True).start()
            else:
                self.idle -= 1
        self.queue.put((fn, args))

    def _work(self):
        while True:
            fn, args = self.queue.get()
            fn(*args)
            with self.lock:
                self.idle += 1


class Runner:
    def __init__(self, channel, module, fn):
        self.channel = channel
        self.fn = fn
        flags, argcount = code_flags(fn)
        self.is_async = bool(flags & CO_COROUTINE)
        self.is_async_stream = bool(flags & CO_ASYNC_GENERATOR)
        self.is_stream = (bool(flags & (CO_GENERATOR | CO_ASYNC_GENERATOR))
                          or getattr(module, "interaction_model", None) == "stream")
        self.is_source = self.is_stream and argcount == 0
        # "message": the function gets {"headers", "payload", "timestamp"} instead of the payload
        # (event-time windows need the timestamp); as a function attribute or at module level.
        self.wants_message = (getattr(fn, "argument_type", None) or getattr(module, "argument_type", None)) == "message"
        self.pool = None
        self.loop = None
        self.streams = {}
        self.busy = 0
        self.idle = threading.Condition()

    def _asyncio(self):
        if self.loop is None:
            import asyncio
            self.loop = asyncio.new_event_loop()
            threading.Thread(target=self.loop.run_forever, name="riff-asyncio", daemon=True).start()
        return self.loop

    def _begin(self):
        with self.idle:
            self.busy += 1

    def _end(self):
        with self.idle:
            self.busy -= 1
            self.idle.notify_all()

    def argument(self, headers, value):
        """What the function is called with: the decoded payload, or the whole message."""
        if not self.wants_message:
            return value
        ts = headers.get("riff-timestamp")
        # riff's own frame headers are not the message's, as in Node.
        own = {k: v for k, v in headers.items() if k not in ("riff-timestamp", "riff-serial-key")}
        return {"headers": own, "payload": value, "timestamp": int(ts[0]) if ts else int(time.time() * 1000)}

    def end_streams(self):
        """On SHUTDOWN: the input of every open stream ends, so its open windows are yielded."""
        for stream in list(self.streams.values()):
            stream.put(None)

    def drain(self):
        with self.idle:
            while self.busy > 0:
                self.idle.wait()

    # request-reply

    def invoke(self, fid, headers, payload):
        self._begin()
        content_type = (headers.get("content-type") or [None])[0]
        accept = (headers.get("accept") or [None])[0]
        try:
            check(content_type, accept)
            value = self.argument(headers, decode(content_type, payload))
        except Exception as e:
            self._fail(fid, e, "RIFF_FUNCTION_ERROR")
            self._end()
            return
        if self.is_async:
            import asyncio
            future = asyncio.run_coroutine_threadsafe(self.fn(value), self._asyncio())
            future.add_done_callback(lambda f: self._reply(fid, f.exception(), f.result, accept, content_type))
        else:
            if self.pool is None:
                self.pool = WorkerPool(WORKERS)
            self.pool.submit(self._call, fid, value, accept, content_type)

    def _call(self, fid, value, accept, content_type):
        try:
            result = self.fn(value)
        except Exception as e:
            self._reply(fid, e, None, accept, content_type)
            return
        self._reply(fid, None, lambda: result, accept, content_type)

    def _reply(self, fid, err, result, accept, content_type):
        try:
            if err is not None:
                self._fail(fid, err, "RIFF_FUNCTION_ERROR")
                return
            t, body = encode(result(), accept, content_type)
            self.channel.send(REPLY, fid, {"content-type": t}, body)
        except Exception as e:
            self._fail(fid, e, "RIFF_FUNCTION_ERROR")
        finally:
            self._end()

    def _fail(self, fid, err, code):
        try:
            self.channel.send(ERROR, fid, {}, error_body(err, code))
        except OSError:
            pass

    # streams (docs/protocol.md, Streams)

    def stream_open(self, fid, headers):
        self._begin()
        stream = Stream(self, fid, headers)
        self.streams[fid] = stream
        stream.start()

    def stream_frame(self, ftype, fid, headers, payload):
        stream = self.streams.get(fid)
        if stream is None:
            return  # ended by an ERROR: inputs still on their way are ignored
        if ftype == STREAM_INPUT:
            stream.put((headers, payload))
        else:
            stream.put(None)

    def stream_done(self, fid):
        self.streams.pop(fid, None)
        self._end()


class Stream:
    """One open stream: the function gets an iterator of inputs and produces outputs."""

    def __init__(self, runner, fid, headers):
        self.runner = runner
        self.fid = fid
        self.content_type = (headers.get("content-type") or [None])[0]
        self.accept = (headers.get("accept") or [None])[0]
        self.failed = False
        if runner.is_async_stream:
            import asyncio
            self.loop = runner._asyncio()
            self.queue = asyncio.Queue()
        else:
            import queue
            self.loop = None
            self.queue = queue.SimpleQueue()

    def put(self, item):
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.queue.put_nowait, item)
        else:
            self.queue.put(item)

    def _value(self, item):
        headers, payload = item
        ct = (headers.get("content-type") or [self.content_type])[0]
        check(ct, None)
        return self.runner.argument(headers, decode(ct, payload))

    def inputs(self):
        while True:
            item = self.queue.get()
            if item is None:
                return
            yield self._value(item)

    async def ainputs(self):
        while True:
            item = await self.queue.get()
            if item is None:
                return
            yield self._value(item)

    def emit(self, value):
        t, body = encode(value, self.accept, None)
        self.runner.channel.send(STREAM_OUTPUT, self.fid, {"content-type": t}, body)

    def start(self):
        if self.loop is not None:
            import asyncio
            asyncio.run_coroutine_threadsafe(self._run_async(), self.loop)
        else:
            threading.Thread(target=self._run, name="riff-stream-%d" % self.fid, daemon=True).start()

    def _outputs(self, inputs):
        return self.runner.fn() if self.runner.is_source else self.runner.fn(inputs)

    def _close(self, err):
        """STREAM_END after the last output, or ERROR when the function raised."""
        if err is None:
            self.runner.channel.send(STREAM_END, self.fid, {})
        else:
            self.runner._fail(self.fid, err, "RIFF_FUNCTION_ERROR")
        self.runner.stream_done(self.fid)

    def _run(self):
        err = None
        try:
            for value in self._outputs(self.inputs()):
                self.emit(value)
        except Exception as e:
            err = e
        self._close(err)

    async def _run_async(self):
        err = None
        try:
            async for value in self._outputs(self.ainputs()):
                self.emit(value)
        except Exception as e:
            err = e
        self._close(err)

def wait_for_load(channel):
    """A warm-pool replica: report READY with riff-pool, then become the function LOAD names.

    LOAD carries the environment and working directory a fresh replica would have had; after it
    everything goes as after a normal start, so a cold start costs importing the function only.
    """
    # Imported now, while nobody waits, instead of by the first call: what LOAD, loading the
    # function and answering (or failing) its first message use.
    import json, importlib.util, traceback  # noqa: F401
    from _queue import SimpleQueue  # noqa: F401
    channel.send(READY, 0, {"riff-pool": "ready"})
    while True:
        frame = channel.receive()
        if frame is None:
            os._exit(0)
        ftype, _fid, headers, payload = frame
        if ftype != LOAD:
            continue
        import json
        env = json.loads(payload.decode("utf-8"))
        os.environ.clear()
        os.environ.update(env)
        os.chdir(headers.get("riff-dir", [os.getcwd()])[0])
        return


def main():
    # Replies go over fd 3; print() goes to stdout, which riff logs: flush it line by line.
    sys.stdout.reconfigure(line_buffering=True)
    channel = Channel(3)
    if os.environ.get("RIFF_POOL") == "1":
        wait_for_load(channel)
    try:
        module, fn = load()
        runner = Runner(channel, module, fn)
    except BaseException as e:
        body = error_body(e, "RIFF_FUNCTION_STARTUP_FAILED")
        channel.send(INIT_FAILED, 0, {}, body)
        sys.stdout.flush()
        os._exit(1)
    channel.send(READY, 0, {"riff-shape": "stream" if runner.is_stream else "request-reply"})
    while True:
        try:
            frame = channel.receive()
        except ValueError as e:
            sys.stderr.write("riff: %s\n" % e)
            os._exit(1)
        if frame is None:
            os._exit(0)  # the daemon went away: no reply can be delivered
        ftype, fid, headers, payload = frame
        if ftype == INVOKE:
            runner.invoke(fid, headers, payload)
        elif ftype == STREAM_OPEN:
            runner.stream_open(fid, headers)
        elif ftype in (STREAM_INPUT, STREAM_END):
            runner.stream_frame(ftype, fid, headers, payload)
        elif ftype == SHUTDOWN:
            runner.end_streams()
            runner.drain()
            sys.stdout.flush()
            sys.stderr.flush()
            channel.close()
            os._exit(0)
        else:
            sys.stderr.write("riff: unexpected frame type %d\n" % ftype)
