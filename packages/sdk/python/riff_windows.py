"""Windows over a riff stream function's inputs, for Python functions. Standard library only.

The same windows as the Node SDK (@riff/sdk, see docs/sdk.md), over any iterator or generator:

    from riff_windows import sliding_window, count_by

    def votes(messages):
        for w in sliding_window(messages, size_ms=60_000, slide_ms=2_000):
            yield {"end": w.end, "counts": count_by(w.items, lambda m: m["payload"])}

Time is event time: each item's ``timestamp`` (a dict key or an attribute, in ms since the
epoch), or what ``time_of(item)`` returns. A window is yielded when an item's time passes its end
plus ``allowed_lateness_ms`` (the watermark), or when the input ends. A plain iterator has no
timers, so unlike the Node SDK nothing closes while the input is quiet.

An item whose windows have all closed is dropped and passed to ``on_late(item, time)``.
"""

import math
from typing import Any, Callable, Dict, Hashable, Iterable, Iterator, List, NamedTuple, Optional

__all__ = [
    "Window",
    "timestamp_of",
    "tumbling_window",
    "sliding_window",
    "session_window",
    "tumbling_count_window",
    "sliding_count_window",
    "group_by",
    "count_by",
]


class Window(NamedTuple):
    """A closed window. Time windows: start inclusive, end exclusive. Sessions: the first item's
    time and the last item's time plus the gap. Count windows: the first and last item's times
    (None for items without a time). ``key`` is None unless a ``key`` function was given."""

    start: Optional[float]
    end: Optional[float]
    items: List[Any]
    key: Any = None


def timestamp_of(item: Any) -> Optional[float]:
    """The item's numeric ``timestamp``, as a dict key or an attribute; None when it has none."""
    t = item.get("timestamp") if isinstance(item, dict) else getattr(item, "timestamp", None)
    if isinstance(t, bool) or not isinstance(t, (int, float)) or math.isnan(t):
        return None
    return t


def _positive(name: str, value: float) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 < value < math.inf:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return value


def _non_negative(name: str, value: float) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < math.inf:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return value


def _whole(name: str, value: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
    return value


def _run(items, engine, time_of, key, on_late, untimed_ok) -> Iterator[Window]:
    # Shared loop: the engines are plain state; this feeds them and raises the watermark.
    time_of = time_of or timestamp_of
    watermark = -math.inf
    for item in items:
        t = time_of(item)
        if t is None and not untimed_ok:
            raise TypeError("an item has no event time: in a riff function, set argument_type = \"message\" "
                            "so items are messages with a 'timestamp'; or give items a numeric 'timestamp', or pass time_of")
        if not engine.add(item, t, key(item) if key else None) and on_late:
            on_late(item, t)
        if t is not None and t > watermark:
            watermark = t
        # Count windows close on add, so this runs for every item, not only when time moves.
        yield from engine.advance(watermark)
    yield from engine.advance(math.inf)


class _SlidingEngine:
    """Windows of size starting every slide (epoch-aligned); created by their first item."""

    def __init__(self, size, slide, lateness, keyed):
        self.size, self.slide, self.lateness, self.keyed = size, slide, lateness, keyed
        self.open: Dict[float, Dict[Hashable, list]] = {}
        self.closed_through = -math.inf

    def add(self, item, t, k):
        belongs = added = False
        start = math.floor(t / self.slide) * self.slide
        while start > t - self.size:
            belongs = True
            if start + self.size <= self.closed_through:
                break  # earlier starts end earlier: closed too
            self.open.setdefault(start, {}).setdefault(k, []).append(item)
            added = True
            start -= self.slide
        return added or not belongs

    def advance(self, watermark):
        through = watermark - self.lateness
        if through <= self.closed_through:
            return []
        self.closed_through = through
        out = []
        for start in sorted(s for s in self.open if s + self.size <= through):
            for k, items in self.open.pop(start).items():
                out.append(Window(start, start + self.size, items, k if self.keyed else None))
        return out


class _SessionEngine:
    """Per key, disjoint sessions sorted by start; an item spans [t, t + gap) and joins the
    sessions it overlaps."""

    def __init__(self, gap, lateness, keyed):
        self.gap, self.lateness, self.keyed = gap, lateness, keyed
        self.sessions: Dict[Hashable, list] = {}  # key -> [[start, last, items], ...]
        self.closed_through = -math.inf

    def add(self, item, t, k):
        gap = self.gap
        if t + gap <= self.closed_through:
            return False
        lst = self.sessions.setdefault(k, [])
        hi = len(lst)
        while hi > 0 and lst[hi - 1][0] >= t + gap:
            hi -= 1
        lo = hi
        while lo > 0 and lst[lo - 1][1] + gap > t:
            lo -= 1
        if lo == hi:
            lst.insert(hi, [t, t, [item]])
            return True
        first = lst[lo]
        for later in lst[lo + 1 : hi]:
            first[2].extend(later[2])
            first[1] = max(first[1], later[1])
        del lst[lo + 1 : hi]
        first[0], first[1] = min(first[0], t), max(first[1], t)
        first[2].append(item)
        return True

    def advance(self, watermark):
        through = watermark - self.lateness
        if through <= self.closed_through:
            return []
        self.closed_through = through
        closed = []
        for k in list(self.sessions):
            keep = []
            for s in self.sessions[k]:
                if s[1] + self.gap <= through:
                    closed.append((k, s))
                else:
                    keep.append(s)
            if keep:
                self.sessions[k] = keep
            else:
                del self.sessions[k]
        closed.sort(key=lambda ks: (ks[1][1], ks[1][0]))  # stable: ties keep key order
        return [Window(s[0], s[1] + self.gap, s[2], k if self.keyed else None) for k, s in closed]


class _CountEngine:
    """Window j of a key holds its items [j*slide, j*slide + size) and closes with its last."""

    def __init__(self, size, slide, keyed):
        self.size, self.slide, self.keyed = size, slide, keyed
        self.keys: Dict[Hashable, dict] = {}
        self.ready: List[Window] = []

    def _window(self, state, count, k):
        tail = state["items"][-count:]
        return Window(tail[0][0], tail[-1][0], [x for _, x in tail], k if self.keyed else None)

    def add(self, item, t, k):
        state = self.keys.setdefault(k, {"items": [], "seen": 0, "emitted": 0})
        state["items"].append((t, item))
        del state["items"][: -self.size]
        state["seen"] += 1
        first = state["seen"] - self.size
        if first >= 0 and first % self.slide == 0:
            self.ready.append(self._window(state, self.size, k))
            state["emitted"] = state["seen"]
        return True

    def advance(self, watermark):
        if watermark == math.inf:
            # The oldest unfilled window, if it holds items no emitted window held.
            for k, state in self.keys.items():
                seen = state["seen"]
                oldest = 0 if seen < self.size else (seen - self.size) // self.slide + 1
                start = oldest * self.slide
                if start < seen and seen > state["emitted"]:
                    self.ready.append(self._window(state, seen - start, k))
            self.keys.clear()
        ready, self.ready = self.ready, []
        return ready


def sliding_window(
    items: Iterable[Any],
    size_ms: float,
    slide_ms: float,
    *,
    key: Optional[Callable[[Any], Hashable]] = None,
    time_of: Optional[Callable[[Any], float]] = None,
    allowed_lateness_ms: float = 0,
    on_late: Optional[Callable[[Any, float], None]] = None,
) -> Iterator[Window]:
    """Yields windows of ``size_ms`` starting every ``slide_ms``; an item is in each that covers it."""
    lateness = _non_negative("allowed_lateness_ms", allowed_lateness_ms)
    engine = _SlidingEngine(_positive("size_ms", size_ms), _positive("slide_ms", slide_ms), lateness, key is not None)
    return _run(items, engine, time_of, key, on_late, untimed_ok=False)


def tumbling_window(items: Iterable[Any], size_ms: float, **options: Any) -> Iterator[Window]:
    """Yields back-to-back windows of ``size_ms``. Options as for sliding_window."""
    return sliding_window(items, size_ms, size_ms, **options)


def session_window(
    items: Iterable[Any],
    gap_ms: float,
    *,
    key: Optional[Callable[[Any], Hashable]] = None,
    time_of: Optional[Callable[[Any], float]] = None,
    allowed_lateness_ms: float = 0,
    on_late: Optional[Callable[[Any, float], None]] = None,
) -> Iterator[Window]:
    """Yields a window per run of items (per key) with less than ``gap_ms`` between neighbours."""
    lateness = _non_negative("allowed_lateness_ms", allowed_lateness_ms)
    engine = _SessionEngine(_positive("gap_ms", gap_ms), lateness, key is not None)
    return _run(items, engine, time_of, key, on_late, untimed_ok=False)


def sliding_count_window(
    items: Iterable[Any],
    size: int,
    slide: int,
    *,
    key: Optional[Callable[[Any], Hashable]] = None,
    time_of: Optional[Callable[[Any], float]] = None,
) -> Iterator[Window]:
    """Yields the last ``size`` items every ``slide`` items; at the end, the oldest unfilled window
    if it holds items no window held yet."""
    engine = _CountEngine(_whole("size", size), _whole("slide", slide), key is not None)
    return _run(items, engine, time_of, key, None, untimed_ok=True)


def tumbling_count_window(items: Iterable[Any], size: int, **options: Any) -> Iterator[Window]:
    """Yields every ``size`` items, and the unfilled rest at the end. Options as for sliding_count_window."""
    return sliding_count_window(items, size, size, **options)


def group_by(items: Iterable[Any], key: Callable[[Any], Hashable]) -> Dict[Hashable, List[Any]]:
    """Groups items by key, keys in order of first appearance."""
    groups: Dict[Hashable, List[Any]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return groups


def count_by(items: Iterable[Any], key: Callable[[Any], Hashable]) -> Dict[Hashable, int]:
    """Counts items by key, ready for json.dumps: count_by(["a", "b", "a"], str) == {"a": 2, "b": 1}."""
    counts: Dict[Hashable, int] = {}
    for item in items:
        k = key(item)
        counts[k] = counts.get(k, 0) + 1
    return counts
