"""The floor: bare CPython cost of the suite's functions, with no engine at all.

Run with weir's virtualenv python (the interpreter weir's workers run). Times
``list(map(f, values))`` over values like the datagen ones, best of several
repetitions (GC left on, as in the workers), and prints one JSON object.
"""

import itertools
import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from suite_udfs import inc_py, split_words_py, upper_py  # noqa: E402


def best_ns(fn, reps):
    best = None
    for _ in range(reps):
        t0 = time.perf_counter_ns()
        fn()
        dt = time.perf_counter_ns() - t0
        best = dt if best is None else min(best, dt)
    return best


def hexstr(rnd, n):
    return "".join(rnd.choice("0123456789abcdef") for _ in range(n))


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    rnd = random.Random(42)
    ints = [rnd.randint(0, 1_000_000) for _ in range(n)]
    ns = max(1, n // 2)
    strs32 = [hexstr(rnd, 32) for _ in range(ns)]
    nt = max(1, n // 5)
    strs64 = [hexstr(rnd, 64) for _ in range(nt)]
    words = sum(1 for _ in itertools.chain.from_iterable(map(split_words_py, strs64)))

    out = {
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "reps": reps,
        "inc": {"n": n, "ns_per_call": best_ns(lambda: list(map(inc_py, ints)), reps) / n},
        "upper": {"n": ns, "ns_per_call": best_ns(lambda: list(map(upper_py, strs32)), reps) / ns},
        "udtf": {
            "n": nt,
            "words": words,
            # per input row: the call plus iterating its words into one list
            "ns_per_call": best_ns(
                lambda: list(itertools.chain.from_iterable(map(split_words_py, strs64))), reps) / nt,
        },
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
