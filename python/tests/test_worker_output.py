"""The worker's sys.stdout / sys.stderr: prints of threads that run at the
same time come out as whole lines, nothing lost."""

import io
import os
import random
import threading

from weir.worker import _LineWriter


def _pipe_writer():
    r, w = os.pipe()
    stream = io.TextIOWrapper(io.FileIO(w, "wb"), encoding="utf-8", write_through=True)
    return r, stream


def _read_all(fd):
    chunks = []
    while True:
        b = os.read(fd, 1 << 16)
        if not b:
            return b"".join(chunks).decode("utf-8")
        chunks.append(b)


def test_threads_print_whole_lines():
    r, stream = _pipe_writer()
    out = _LineWriter(stream)
    got = []
    reader = threading.Thread(target=lambda: got.append(_read_all(r)))
    reader.start()
    n_threads, n_lines = 8, 2000

    def work(t):
        rng = random.Random(t)
        for i in range(n_lines):
            # print writes its pieces one by one; some lines end in pieces too.
            if rng.random() < 0.2:
                print("thread", t, end="", file=out)
                print(" line", i, "é" * rng.randint(0, 3000), file=out)
            else:
                print("thread", t, "line", i, "é" * rng.randint(0, 3000), file=out)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(n_threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    print("unfinished", end="", file=out)
    out.flush_all()
    stream.close()
    reader.join()
    lines = got[0].split("\n")
    assert lines[-1] == ""
    assert lines[-2] == "unfinished"
    seen = {}
    for line in lines[:-2]:
        words = line.split(" ")
        assert words[0] == "thread" and words[2] == "line", line[:80]
        t, i = int(words[1]), int(words[3])
        assert set(words[4]) <= {"é"}, line[:80]
        assert seen.get(t, -1) == i - 1, f"thread {t}: line {i} after {seen.get(t)}"
        seen[t] = i
    assert seen == {t: n_lines - 1 for t in range(n_threads)}


def test_flush_writes_an_unfinished_line():
    r, stream = _pipe_writer()
    out = _LineWriter(stream)
    out.write("no newline yet")
    out.flush()
    out.write("a\nb")
    stream.close()
    assert _read_all(r) == "no newline yeta\n"


def test_harness_traceback_of_a_failed_instruction_is_dropped():
    """The harness prints a failed instruction's traceback to stderr; the
    engine reports that error from the response, so the print is dropped.
    A user's own traceback, printed the same way, is kept."""
    r, stream = _pipe_writer()
    out = _LineWriter(stream)
    harness = ("Traceback (most recent call last):\n"
               '  File "/x/apache_beam/runners/worker/sdk_worker.py", line 310, in _execute\n'
               "    response = task()\n"
               "ZeroDivisionError: integer division or modulo by zero\n")
    print(harness, file=out)
    user = ("Traceback (most recent call last):\n"
            '  File "udfs.py", line 3, in f\n'
            "ZeroDivisionError: division by zero\n")
    print(user, file=out)
    print("after", file=out)
    stream.close()
    assert _read_all(r) == user + "\n" + "after\n"
