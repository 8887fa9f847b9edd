"""Tests of riff_windows; run with `python3 -m unittest` in this folder (npm test does)."""

import json
import unittest

from riff_windows import (
    Window,
    count_by,
    group_by,
    session_window,
    sliding_count_window,
    sliding_window,
    timestamp_of,
    tumbling_count_window,
    tumbling_window,
)


def msg(timestamp, payload=None):
    return {"timestamp": timestamp, "payload": payload if payload is not None else f"m{timestamp}"}


def shape(windows):
    return [(w.start, w.end, [m["payload"] for m in w.items]) for w in windows]


class TimeWindowTest(unittest.TestCase):
    def test_tumbling_splits_by_event_time_and_flushes_at_the_end(self):
        items = [msg(0), msg(500), msg(1999), msg(2000), msg(4500)]
        self.assertEqual(
            shape(tumbling_window(items, 2000)),
            [(0, 2000, ["m0", "m500", "m1999"]), (2000, 4000, ["m2000"]), (4000, 6000, ["m4500"])],
        )

    def test_a_window_is_yielded_before_the_input_ends(self):
        def endless():
            t = 0
            while True:
                yield msg(t)
                t += 700

        first = next(tumbling_window(endless(), 2000))
        self.assertEqual((first.start, first.end, len(first.items)), (0, 2000, 3))

    def test_sliding_puts_an_item_in_every_window_covering_it(self):
        items = [msg(500), msg(1500), msg(2500)]
        self.assertEqual(
            shape(sliding_window(items, 2000, 1000)),
            [
                (-1000, 1000, ["m500"]),
                (0, 2000, ["m500", "m1500"]),
                (1000, 3000, ["m1500", "m2500"]),
                (2000, 4000, ["m2500"]),
            ],
        )

    def test_vote_counts_over_60s_sliding_every_2s(self):
        votes = [msg(1000, "yes"), msg(3000, "no"), msg(3500, "yes"), msg(62_500, "no")]
        tallies = {w.end: count_by(w.items, lambda m: m["payload"]) for w in sliding_window(votes, 60_000, 2_000)}
        self.assertEqual(tallies[2000], {"yes": 1})
        self.assertEqual(tallies[60_000], {"yes": 2, "no": 1})
        self.assertEqual(tallies[64_000], {"no": 1})
        self.assertEqual(json.dumps(tallies[62_000], sort_keys=True), '{"no": 1, "yes": 1}')

    def test_keyed_windows(self):
        items = [msg(0, "a"), msg(10, "b"), msg(20, "a"), msg(1500, "b")]
        windows = list(tumbling_window(items, 1000, key=lambda m: m["payload"]))
        self.assertEqual([(w.key, w.start, len(w.items)) for w in windows], [("a", 0, 2), ("b", 0, 1), ("b", 1000, 1)])

    def test_late_items_are_dropped_and_reported(self):
        late = []
        items = [msg(100), msg(2500), msg(1500)]
        windows = list(tumbling_window(items, 2000, on_late=lambda m, t: late.append(t)))
        self.assertEqual(shape(windows), [(0, 2000, ["m100"]), (2000, 4000, ["m2500"])])
        self.assertEqual(late, [1500])

    def test_allowed_lateness_keeps_a_window_open(self):
        late = []
        items = [msg(100), msg(2500), msg(1500), msg(3000), msg(1800)]
        windows = list(tumbling_window(items, 2000, allowed_lateness_ms=1000, on_late=lambda m, t: late.append(t)))
        self.assertEqual(shape(windows)[0], (0, 2000, ["m100", "m1500"]))
        self.assertEqual(late, [1800])

    def test_time_of_and_missing_time(self):
        windows = list(tumbling_window([5, 15], 10, time_of=lambda x: x))
        self.assertEqual([(w.start, w.items) for w in windows], [(0, [5]), (10, [15])])
        with self.assertRaises(TypeError):
            list(tumbling_window(["no time"], 10))
        with self.assertRaises(ValueError):
            tumbling_window([], 0)


class SessionWindowTest(unittest.TestCase):
    def test_sessions_close_after_a_gap(self):
        items = [msg(0), msg(1000), msg(2000), msg(10_000), msg(10_500), msg(13_500)]
        self.assertEqual(
            shape(session_window(items, 3000)),
            [(0, 5000, ["m0", "m1000", "m2000"]), (10_000, 13_500, ["m10000", "m10500"]), (13_500, 16_500, ["m13500"])],
        )

    def test_sessions_per_key(self):
        clicks = [dict(msg(t), user=u) for t, u in [(0, "ann"), (1000, "bob"), (1500, "ann"), (4500, "bob"), (9000, "ann")]]
        windows = session_window(clicks, 2000, key=lambda c: c["user"])
        self.assertEqual(
            [(w.key, w.start, w.end, len(w.items)) for w in windows],
            [("bob", 1000, 3000, 1), ("ann", 0, 3500, 2), ("bob", 4500, 6500, 1), ("ann", 9000, 11_000, 1)],
        )

    def test_an_out_of_order_item_joins_two_sessions(self):
        items = [msg(0), msg(5000), msg(2500)]
        self.assertEqual(shape(session_window(items, 3000, allowed_lateness_ms=10_000)), [(0, 8000, ["m0", "m5000", "m2500"])])


class CountWindowTest(unittest.TestCase):
    def numbers(self, n):
        return [msg((i + 1) * 100, str(i + 1)) for i in range(n)]

    def payloads(self, windows):
        return ["".join(m["payload"] for m in w.items) for w in windows]

    def test_tumbling_count(self):
        windows = list(tumbling_count_window(self.numbers(7), 3))
        self.assertEqual(self.payloads(windows), ["123", "456", "7"])
        self.assertEqual([(w.start, w.end) for w in windows], [(100, 300), (400, 600), (700, 700)])

    def test_sliding_count(self):
        self.assertEqual(self.payloads(sliding_count_window(self.numbers(5), 3, 1)), ["123", "234", "345"])
        self.assertEqual(self.payloads(sliding_count_window(self.numbers(4), 3, 2)), ["123", "34"])
        self.assertEqual(self.payloads(sliding_count_window(self.numbers(8), 2, 3)), ["12", "45", "78"])

    def test_count_windows_take_plain_values_and_keys(self):
        windows = list(tumbling_count_window(range(1, 8), 2, key=lambda n: n % 2))
        self.assertEqual(
            windows,
            [Window(None, None, [1, 3], 1), Window(None, None, [2, 4], 0), Window(None, None, [5, 7], 1), Window(None, None, [6], 0)],
        )


class HelpersTest(unittest.TestCase):
    def test_group_and_count(self):
        words = "Two One Two Three One Two".split()
        self.assertEqual(json.dumps(count_by(words, str)), '{"Two": 3, "One": 2, "Three": 1}')
        self.assertEqual(group_by(range(5), lambda n: n % 2), {0: [0, 2, 4], 1: [1, 3]})

    def test_timestamp_of_reads_keys_and_attributes(self):
        class Message:
            timestamp = 42

        self.assertEqual(timestamp_of({"timestamp": 7}), 7)
        self.assertEqual(timestamp_of(Message()), 42)
        self.assertIsNone(timestamp_of({"timestamp": "7"}))
        self.assertIsNone(timestamp_of(True))


if __name__ == "__main__":
    unittest.main()
