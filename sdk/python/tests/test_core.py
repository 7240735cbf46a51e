"""Unit tests of the framework-free parts of the Python SDK (run: python3 -m unittest discover -s sdk/python/tests)."""
import json
import math
import os
import random
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from sisock.args import ArgumentError, parse_get_data_args, parse_get_fields_args  # noqa: E402
from sisock.downsample import downsample_mean, downsample_min_max  # noqa: E402
from sisock.options import ConfigError, challenge_response, options_from_env, transport_config  # noqa: E402
from sisock.results import (ResultShapeError, check_shape, concat_pieces, finite_column, json_size_bound,  # noqa: E402
                            normalize, split_result, thin_to_fit)
from sisock.status import MAX_STATUS_KEYS, MAX_STATUS_STRING, bound_node_status  # noqa: E402
from sisock.tiers import Tiers, join_fields  # noqa: E402


class ArgsTest(unittest.TestCase):
    def test_positional_keyword_relative(self):
        a = parse_get_data_args([["x", "y", "x"], -10, 0], {}, 1000.0)
        self.assertEqual((a.fields, a.start, a.end, a.min_stride), (["x", "y"], 990.0, 1000.0, None))
        a = parse_get_data_args([], {"field": ["x"], "start": 1, "end": 5, "min_stride": 2}, 0)
        self.assertEqual((a.start, a.end, a.min_stride), (1.0, 5.0, 2.0))
        self.assertIsNone(parse_get_data_args([["x"], 1, 5, None], {}, 0).min_stride)
        self.assertEqual(parse_get_data_args([["x"], 1, 5, 2], {"reduce": "mean"}, 0).reduce, "mean")
        self.assertEqual(parse_get_data_args([["x"], 1, 5], {}, 0).reduce, "minmax")
        r = parse_get_fields_args([1, 0], {}, 50.0)
        self.assertEqual((r.start, r.end), (1.0, 50.0))

    def test_bad_arguments(self):
        bad = [
            ([["x"], 1, 5, -1], {}), ([["x"], 1, 5, 0], {}), ([["x"], 1, 5, float("nan")], {}), ([["x"], 1, 5], {"reduce": "max"}), ([["x"], 1, 5, "1"], {}),
            ([["x"], 5, 1], {}), (["x", 1, 5], {}), ([[1], 1, 5], {}), ([["x"], float("inf"), 5], {}),
            ([["x"], True, 5], {}), ([["x"], 1], {}), ([["x"], 1, 5], {"start": 1}), ([["x"], 1, 5], {"bogus": 1}),
            ([["x"], 1, 5, None, 3], {}),
        ]
        for args, kwargs in bad:
            with self.assertRaises(ArgumentError, msg=repr((args, kwargs))):
                parse_get_data_args(args, kwargs, 100.0)
        with self.assertRaises(ArgumentError):
            parse_get_fields_args([5, 1], {}, 0)


class DownsampleTest(unittest.TestCase):
    def test_grid_and_extremes(self):
        t = [float(i) for i in range(10)]
        v = [0, 5, -3, 2, 2, 9, 1, 1, 1, 4]
        out_t, (out_v,) = downsample_min_max(t, [v], 2)
        # buckets [0,4): max 5 (t1), min -3 (t2); [4,8): max 9 (t5), first min 1 (t6); [8,10): 1 (t8), 4 (t9)
        self.assertEqual(out_t, [1, 2, 5, 6, 8, 9])
        self.assertEqual(out_v, [5, -3, 9, 1, 1, 4])

    def test_sparse_input_unchanged(self):
        t = [0.0, 10.0, 20.0]
        self.assertEqual(downsample_min_max(t, [[1, 2, 3]], 5), (t, [[1, 2, 3]]))

    def test_strings_nulls_bools(self):
        t = [0.0, 0.5, 1.0, 1.5]
        out_t, (s, b, n) = downsample_min_max(t, [["a", "b", "c", "d"], [True, False, False, True], [None] * 4], 1)
        self.assertEqual(out_t, [0, 0.5, 1.5])  # union of each column's extreme rows, at their real times
        self.assertEqual(s, ["a", None, "d"])  # strings: first and last
        self.assertEqual(b, [None, False, True])  # first minimum, last maximum
        self.assertEqual(n, [None, None, None])

    def test_mean(self):
        t = [0.0, 0.5, 1.0, 1.5, 3.0]
        out_t, (v,) = downsample_mean(t, [[1, 3, None, 5, 7]], 1)
        self.assertEqual((out_t, v), ([0.25, 1.25, 3.0], [2.0, 5.0, 7.0]))


class ResultsTest(unittest.TestCase):
    def make(self, n, dt=1.0):
        t = [1000 + i * dt for i in range(n)]
        return {"data": {"x": [float(i) for i in range(n)], "s": ["v%d" % i for i in range(n)], "y": [1, 2]},
                "timeline": {"tl": {"t": t, "finalized_until": t[-1]}, "other": {"t": [5.0, 6.0], "finalized_until": None}}}

    def test_normalize_range_fields_stride(self):
        r = normalize(self.make(20), ["x", "nope"], 1005, 1010, None, {"x": "tl"})
        self.assertEqual(r, {"data": {"x": [5.0, 6.0, 7.0, 8.0, 9.0], "nope": []},
                             "timeline": {"tl": {"t": [1005, 1006, 1007, 1008, 1009], "finalized_until": 1019}}})
        r = normalize(self.make(20), ["x", "y"], 0, 2000, 4, None)
        self.assertEqual(r["timeline"]["tl"]["t"], [1000, 1007, 1008, 1015, 1016, 1019])  # 8 s buckets: min, max
        self.assertEqual(r["data"]["y"], [1, 2])  # on timeline "other" (length 2): one bucket [0, 8)
        self.assertEqual(r["timeline"]["other"]["t"], [5.0, 6.0])
        m = normalize(self.make(20), ["x"], 0, 2000, 4, None, "mean")
        self.assertEqual(m["timeline"]["tl"]["t"], [1001.5, 1005.5, 1009.5, 1013.5, 1017.5])
        self.assertEqual(m["data"]["x"], [1.5, 5.5, 9.5, 13.5, 17.5])

    def test_check_shape_accepts_tuples_and_array_likes(self):
        class Arr:  # what numpy arrays offer
            def __init__(self, v):
                self.v = v

            def tolist(self):
                return list(self.v)

        r = check_shape({"data": {"x": Arr([1.0, 2.0]), "y": (3, 4)}, "timeline": {"tl": {"t": Arr([1, 2]), "finalized_until": 2}}})
        self.assertEqual(r, {"data": {"x": [1.0, 2.0], "y": [3, 4]}, "timeline": {"tl": {"t": [1, 2], "finalized_until": 2}}})
        for bad in [None, [], {"data": {}}, {"data": {"x": 3}, "timeline": {}}, {"data": {}, "timeline": {"tl": {"t": 5}}},
                    {"data": {}, "timeline": {"tl": [1]}}]:
            with self.assertRaises(ResultShapeError, msg=repr(bad)):
                check_shape(bad)

    def test_nonfinite_to_null_and_length_mismatch(self):
        nan, inf = float("nan"), float("inf")
        self.assertEqual(finite_column([1.0, nan, -inf, inf, "s", None, True]), [1.0, None, None, None, "s", None, True])
        col = [1.0, 2.0]
        self.assertIs(finite_column(col), col)
        r = normalize({"data": {"x": [nan, 1.0]}, "timeline": {"tl": {"t": [1.0, 2.0], "finalized_until": None}}}, ["x"], 0, 9, None)
        self.assertEqual(r["data"]["x"], [None, 1.0])
        with self.assertRaises(ResultShapeError):
            normalize({"data": {"x": [1, 2, 3]}, "timeline": {"tl": {"t": [1.0, 2.0], "finalized_until": None}}}, ["x"], 0, 9, None)

    def test_unsorted_times(self):
        res = {"data": {"x": [3, 1, 2]}, "timeline": {"tl": {"t": [30.0, 10.0, 20.0], "finalized_until": None}}}
        r = normalize(res, ["x"], 15, 40, None)
        self.assertEqual(r["timeline"]["tl"]["t"], [30.0, 20.0])
        self.assertEqual(r["data"]["x"], [3, 2])

    def test_split_concat_roundtrip_and_bound(self):
        res = normalize(self.make(5000), ["x", "s", "nope"], 0, 1e9, None)
        size = json_size_bound(res)
        self.assertGreaterEqual(size, len(json.dumps(res)))
        pieces = split_result(res, 8000)
        self.assertGreater(len(pieces), 5)
        for p in pieces:
            self.assertLessEqual(len(json.dumps(p)), 8000)
        self.assertEqual(concat_pieces(pieces), res)

    def test_thin_to_fit(self):
        res = normalize(self.make(100000, 0.01), ["x"], 0, 1e9, None)
        out, stride, size = thin_to_fit(res, 50000, 0, 1e9, None)
        self.assertLessEqual(len(json.dumps(out)), 50000)
        self.assertGreater(len(out["data"]["x"]), 100)
        self.assertEqual(min(out["data"]["x"]), 0.0)
        self.assertEqual(max(out["data"]["x"]), 99999.0)


class TiersTest(unittest.TestCase):
    def test_query_matches_brute_force(self):
        rnd = random.Random(7)
        t = sorted(rnd.uniform(0, 20000) for _ in range(5000))
        v = [rnd.gauss(0, 1) for _ in t]
        tiers = Tiers(interval=0.1)
        tiers.add_many(t, {"v": v})

        def raw(a, b):
            idx = [i for i, x in enumerate(t) if a <= x < b]
            return [t[i] for i in idx], [v[i] for i in idx]

        for start, end, stride in [(123.4, 18000.2, 600), (0, 20000, 30), (500, 900, 5)]:
            pts = tiers.query("v", start, end, stride, raw)
            self.assertIsNotNone(pts)
            pt, pv = pts
            # every point is a real sample, inside [start, end); per output bucket min and max kept
            samples = dict(zip(t, v))
            for x, y in zip(pt, pv):
                self.assertTrue(start <= x < end)
                self.assertEqual(samples[x], y)
            inside = [(x, y) for x, y in zip(t, v) if start <= x < end]
            self.assertIn(min(y for _, y in inside), pv)
            self.assertIn(max(y for _, y in inside), pv)
            self.assertEqual(pt, sorted(pt))
        # a tier answer passes the base class's own min_stride step unchanged
        pt, pv = tiers.query("v", 0, 20000, 600, raw)
        res = {"data": {"v": pv}, "timeline": {"tl": {"t": pt, "finalized_until": None}}}
        self.assertEqual(normalize(res, ["v"], 0, 20000, 600), res)
        self.assertIsNone(tiers.query("v", 0, 100, 0.1, raw))  # no tier that fine
        mean_t, mean_v = tiers.query("v", 0, 20000, 3600, raw, reduce="mean")
        self.assertTrue(all(not math.isnan(x) for x in mean_v))
        self.assertEqual(join_fields([([1.0, 3.0], [1.0, 3.0]), ([2.0], [2.0])]), ([1.0, 2.0, 3.0], [[1.0, None, 3.0], [None, 2.0, None]]))


class OptionsTest(unittest.TestCase):
    def test_env_and_secret_file(self):
        with tempfile.NamedTemporaryFile("w", delete=False) as fh:
            fh.write("s3cret\n")
        try:
            o = options_from_env({"SISOCK_ROUTER": "wss://h:8443/ws", "SISOCK_AUTHID": "a", "SISOCK_SECRET_FILE": fh.name,
                                  "SISOCK_SECRET": "ignored", "SISOCK_AUTHMETHODS": "ticket"})
        finally:
            os.unlink(fh.name)
        self.assertEqual((o.authid, o.secret, o.authmethods), ("a", "s3cret", ["ticket"]))
        self.assertNotIn("s3cret", repr(o))
        tc = transport_config(o)
        self.assertEqual(tc["endpoint"], {"type": "tcp", "host": "h", "port": 8443, "tls": {"hostname": "h"}})
        with self.assertRaises(ConfigError):
            options_from_env({"SISOCK_AUTHID": "a"})
        with self.assertRaises(ConfigError):
            options_from_env({"SISOCK_CA": "/nonexistent/ca.pem"})

    def test_challenges(self):
        from autobahn.wamp import auth
        self.assertEqual(challenge_response("ticket", {}, "tk"), "tk")
        plain = challenge_response("wampcra", {"challenge": "c"}, "pw")
        self.assertEqual(plain, auth.compute_wcs(b"pw", b"c").decode())
        salted = challenge_response("wampcra", {"challenge": "c", "salt": "salt", "iterations": 100, "keylen": 32}, "pw")
        self.assertEqual(salted, auth.compute_wcs(auth.derive_key(b"pw", b"salt", 100, 32), b"c").decode())
        self.assertNotEqual(plain, salted)


if __name__ == "__main__":
    unittest.main()


class StatusTest(unittest.TestCase):
    def test_bounds_as_contract_status_ts(self):
        self.assertIsNone(bound_node_status([1, 2]))
        self.assertIsNone(bound_node_status("lost"))
        got = bound_node_status({"lost": 3, "ok": True, "why": "x" * 1000, "nan": float("nan"), "inf": float("inf"),
                                 "nested": {"a": 1}, "list": [1], "bad key": 1, "k" * 65: 1, "none": None, 5: 1,
                                 "lost\n": 1, "huge": 10 ** 400})
        self.assertEqual(got, {"lost": 3, "ok": True, "why": "x" * MAX_STATUS_STRING, "none": None})
        many = bound_node_status({f"k{i}": i for i in range(100)})
        self.assertEqual(list(many or {}), [f"k{i}" for i in range(MAX_STATUS_KEYS)])
