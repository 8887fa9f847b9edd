"""Content negotiation for riff's Python shim: the same rules as packages/runtime/src/content.ts
and the Node shim's codec, so every invoker answers alike. `json` is imported on first use:
it pulls in `re` and `enum`, milliseconds of a cold start for functions that never see JSON."""

SUPPORTED = ("text/plain", "application/json", "application/octet-stream", "application/x-www-form-urlencoded")
SUPPORTED_LIST = ", ".join(SUPPORTED)


class ContentError(Exception):
    """A failure the caller caused; its code travels in the ERROR frame."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def media_type(value):
    if not value:
        return "text/plain"
    return value.split(";", 1)[0].strip().lower()


def _ranges(accept):
    ranges = []
    for order, part in enumerate(accept.split(",")):
        pieces = part.split(";")
        q = 1.0
        for p in pieces[1:]:
            k, _, v = p.partition("=")
            if k.strip() == "q":
                try:
                    q = float(v.strip())
                except ValueError:
                    q = float("nan")
        t = pieces[0].strip().lower()
        if t and q == q and q > 0:
            ranges.append((-q, order, t))
    return [t for _, _, t in sorted(ranges)]


def _matches(rng, t):
    return rng == "*/*" or rng == t or (rng.endswith("/*") and t.startswith(rng[:-1]))


def negotiate(accept, preferred):
    if accept is None or accept.strip() == "":
        return preferred
    for rng in _ranges(accept):
        if _matches(rng, preferred):
            return preferred
        for t in SUPPORTED:
            if _matches(rng, t):
                return t
    return None


def check(content_type, accept):
    t = media_type(content_type)
    if t not in SUPPORTED:
        raise ContentError("RIFF_CONTENT_TYPE_UNSUPPORTED", "content type '%s' is not supported; send %s" % (t, SUPPORTED_LIST))
    if negotiate(accept, t) is None:
        raise ContentError("RIFF_ACCEPT_UNSUPPORTED",
                           "no supported reply type satisfies Accept '%s'; accept %s" % (accept or "", SUPPORTED_LIST))


def _text(t, payload):
    """The payload as text: riff's text is UTF-8 (a charset parameter does not change that)."""
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ContentError("RIFF_INVALID_ARGUMENT",
                           "payload is not UTF-8 text (Content-Type %s): %s; send UTF-8, or application/octet-stream for bytes" % (t, e))


def decode(content_type, payload):
    t = media_type(content_type)
    if t == "text/plain":
        return _text(t, payload)
    if t == "application/json":
        import json
        text = _text(t, payload)
        try:
            return json.loads(text)
        except ValueError as e:
            raise ContentError("RIFF_INVALID_ARGUMENT", "payload is not valid JSON: %s" % e)
    if t == "application/octet-stream":
        return payload
    if t == "application/x-www-form-urlencoded":
        from urllib.parse import parse_qsl
        return dict(parse_qsl(_text(t, payload), keep_blank_values=True))
    raise ContentError("RIFF_CONTENT_TYPE_UNSUPPORTED", "content type '%s' is not supported; send %s" % (t, SUPPORTED_LIST))


def _structured(value):
    return isinstance(value, (dict, list, tuple))


def _json(value):
    import json
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def encode(value, accept, content_type):
    """(type, bytes) for a result: the request's type, except that dict/list become JSON and
    bytes stay bytes when the caller did not ask for something else."""
    t = media_type(content_type)
    preferred = t if t in SUPPORTED else "text/plain"
    if not accept:
        if _structured(value):
            preferred = "application/json"
        elif isinstance(value, (bytes, bytearray)):
            preferred = "application/octet-stream"
    chosen = negotiate(accept, preferred)
    if chosen is None:
        raise ContentError("RIFF_ACCEPT_UNSUPPORTED", "no supported reply type satisfies Accept '%s'" % (accept or ""))
    return chosen, to_bytes(value, chosen)


def to_bytes(value, t):
    if value is None:
        return b""
    if isinstance(value, (bytes, bytearray)):
        if t == "application/json":
            import base64
            return _json(base64.b64encode(value).decode("ascii"))
        return bytes(value)
    if t == "application/json":
        return _json(value)
    if t == "application/x-www-form-urlencoded" and isinstance(value, dict):
        from urllib.parse import urlencode
        return urlencode(value).encode("utf-8")
    if _structured(value) or isinstance(value, bool):
        return _json(value)
    return str(value).encode("utf-8")
