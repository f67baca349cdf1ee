"""The data path of vectorized stages in the worker (``weir._vectorized_io``):
its answers and its reading of elements are byte for byte Beam's encoding,
and its data channel sends ready messages in order with Beam's own.
"""

import os
import random

import pyarrow as pa
import pytest
from apache_beam.coders import coder_impl, coders
from apache_beam.portability.api import beam_fn_api_pb2
from apache_beam.transforms import window
from apache_beam.utils import windowed_value
from apache_beam.utils.timestamp import MIN_TIMESTAMP, Timestamp

from test_vectorized import batches_element, helpers, stage, column  # noqa: F401  (helpers is a fixture)
from weir._limits import CONTINUED
from weir._vectorized import VectorizedOperation
from weir._vectorized_io import (SHM_REF, ShmInput, _DataChannel, _serialize, _varint, answer_message,
                                 answer_ref_message, data_ids, read_input_ref, split_elements, stream_size,
                                 write_stream)

WV = coders.WindowedValueCoder(coders.BytesCoder(), coders.GlobalWindowCoder()).get_impl()


def encode(wv):
    out = coder_impl.create_OutputStream()
    WV.encode_to_stream(wv, out, True)
    return out.get()


def beam_message(iid, tid, data):
    return beam_fn_api_pb2.Elements(data=[beam_fn_api_pb2.Elements.Data(
        instruction_id=iid, transform_id=tid, data=data)]).SerializeToString()


def random_id(rng):
    return "".join(rng.choice("abcé→7-") for _ in range(rng.choice([1, 5, 130, 300])))


def add_and_big(name):
    """A stage of two outputs: add(a, b) BIGINT and big(a) STRING (long strings)."""
    return stage(name, [(0, [column(0, "BIGINT"), column(1, "BIGINT")], "BIGINT"), (1, [column(0, "BIGINT")], "STRING")],
                 ["BIGINT", "BIGINT"], [("add", "BIGINT", "pandas"), ("big", "STRING", "pandas")])


@pytest.mark.parametrize("part_bytes", [None, 3_000])
def test_answers_are_beams_encoding(helpers, part_bytes):  # noqa: F811
    """Each part of an answer, written in place, is the Elements message
    Beam would send for it: the same bytes."""
    name, _ = helpers
    rng = random.Random()
    st = add_and_big(name)
    op = VectorizedOperation(st)
    if part_bytes:
        op.part_bytes = part_bytes
    batches = []
    # At least one batch of two rows or more: two of big's 3000-character
    # results are over part_bytes, so the answer leaves in parts when it is set.
    for i in range(rng.randint(1, 5)):
        n = rng.randint(2 if i == 0 else 0, 40)
        batches.append([[rng.randint(-9, 9) for _ in range(n)], [None if rng.random() < 0.2 else rng.randint(0, 99)
                                                                   for _ in range(n)]])
    parts = op.process_parts(batches_element(st.input_types, batches))
    assert (len(parts) > 1) == bool(part_bytes)
    for wv in (windowed_value.WindowedValue(b"", MIN_TIMESTAMP, [window.GlobalWindow()]),
               windowed_value.WindowedValue(b"", Timestamp(micros=rng.randint(0, 10**15)), [window.GlobalWindow()])):
        header = encode(wv)[:-1]
        iid, tid = random_id(rng), random_id(rng)
        for i, part in enumerate(parts):
            continued = i < len(parts) - 1
            got = answer_message(op, data_ids(iid, tid), header, part, continued)
            value = (CONTINUED if continued else b"") + op._stream(part)
            assert got == beam_message(iid, tid, encode(wv.with_value(value)))
            assert _serialize(got) is got


def test_elements_are_read_in_place():
    """split_elements gives the values of Beam-encoded windowed values as
    views of the received bytes, and stops at another header."""
    rng = random.Random()
    values = [os.urandom(rng.choice([0, 1, 127, 128, 16383, 16384, 70000])) for _ in range(rng.randint(0, 5))]
    values.append(b"last")
    # Timestamps in milliseconds, as Beam keeps them.
    wvs = [windowed_value.WindowedValue(v, Timestamp(micros=1000 * rng.randint(-10**9, 10**9)), [window.GlobalWindow()])
           for v in values]
    data = b"".join(encode(wv) for wv in wvs)
    got = list(split_elements(memoryview(data)))
    assert [bytes(v) for _, v in got] == values
    assert all(isinstance(v, memoryview) and v.obj is data for _, v in got)
    for (header, _), wv in zip(got, wvs):
        back = WV.decode_from_stream(coder_impl.create_InputStream(header + b"\x00"), True)
        assert back.timestamp == wv.timestamp and list(back.windows) == [window.GlobalWindow()]
    # A pane with indices: Beam's to decode, from that element on.
    pane = windowed_value.PaneInfo(False, False, windowed_value.PaneInfoTiming.ON_TIME, 3, 2)
    other = encode(windowed_value.WindowedValue(b"x", MIN_TIMESTAMP, [window.GlobalWindow()], pane))
    got = list(split_elements(memoryview(data + other + data)))
    assert got[-1] == (None, len(data)) and len(got) == len(values) + 1
    with pytest.raises(ValueError, match="cut short"):
        list(split_elements(memoryview(data[:-1])))


class _Requests:
    """The gRPC side of a data channel: what it would send."""

    def Data(self, requests):
        self.requests = requests
        return iter(())


def test_channel_sends_ready_messages_in_order():
    """Ready messages (bytes) leave with Beam's own messages in the order
    they were queued: the small ones joined with their neighbours into one
    message, a large one alone (not copied)."""
    rng = random.Random()
    stub = _Requests()
    channel = _DataChannel(stub)
    want, big = [], []
    for i in range(rng.randint(5, 30)):
        data = os.urandom(rng.choice([0, 1, 3000, 70_000]) if rng.random() < 0.3 else rng.randint(0, 3000))
        if rng.random() < 0.5:
            message = beam_message("b", f"t{i}", data)
            channel.send_ready(message)
            if len(message) > 64 << 10:
                big.append(message)
        else:
            channel._enqueue_to_send(beam_fn_api_pb2.Elements.Data(instruction_id="b", transform_id=f"t{i}", data=data))
        want.append((f"t{i}", data))
    channel._enqueue_to_send(beam_fn_api_pb2.Elements.Data(instruction_id="b", transform_id="end", is_last=True))
    channel.close()
    got, alone, messages = [], [], list(stub.requests)
    for m in messages:
        got += [(d.transform_id, d.data) for d in beam_fn_api_pb2.Elements.FromString(_serialize(m)).data]
        if type(m) is bytes and len(m) > 64 << 10:
            alone.append(m)
    assert got == want + [("end", b"")]
    # Every large ready message went as it was, and between two of them
    # (and around them) everything else in one message.
    assert [m for m in alone if any(m is b for b in big)] == big
    assert len(messages) <= 2 * len(big) + 1


def input_ref(path, in_off, in_len, out_off, out_len):
    """An input reference value as the engine writes it (internal/pyexec/shmstage.go)."""
    raw = path.encode()
    return memoryview(bytes([SHM_REF]) + _varint(len(raw)) + raw
                      + b"".join(_varint(n) for n in (in_off, in_len, out_off, out_len)))


def test_shared_memory_round_trip(helpers, tmp_path):  # noqa: F811
    """An element in the engine's arena file is read in place from where its
    reference says (a read-only view), and the answer written into its
    region is the same IPC stream as the inline answer, referred to by an
    Elements message in Beam's encoding; afterwards nothing refers to the
    input's region."""
    name, _ = helpers
    rng = random.Random()
    st = add_and_big(name)
    op = VectorizedOperation(st)
    batches = [[[rng.randint(-9, 9) for _ in range(n)], [rng.randint(0, 99) for _ in range(n)]]
               for n in (rng.randint(1, 30), rng.randint(0, 30))]
    element = batches_element(st.input_types, batches)
    path = tmp_path / "arena"
    path.write_bytes(bytes(1 << 20))
    in_off = 64 * rng.randint(1, 100)
    with open(path, "r+b") as f:
        f.seek(in_off)
        f.write(element)
    out_off = 64 * rng.randint(200, 300)
    shm = read_input_ref(input_ref(str(path), in_off, len(element), out_off, 1 << 18))
    assert isinstance(shm, ShmInput) and shm.data == element and (shm.out_off, shm.out_len) == (out_off, 1 << 18)
    # In place, and read-only: a function cannot change the engine's copy.
    assert type(shm.data) is memoryview and shm.data.readonly
    with pytest.raises(TypeError):
        shm.data[0] = 0
    results = op.results(shm.data)
    size = stream_size(op, results)
    write_stream(op, results, pa.py_buffer(shm.arena[out_off:out_off + size]), size)
    assert path.read_bytes()[out_off:out_off + size] == op._stream(results)
    del results
    assert shm.let_go() and shm.data is None
    header = encode(windowed_value.WindowedValue(b"", MIN_TIMESTAMP, [window.GlobalWindow()]))[:-1]
    got = answer_ref_message(data_ids("i1", "t9"), header, out_off, size)
    value = bytes([SHM_REF]) + _varint(out_off) + _varint(size)
    assert got == beam_message("i1", "t9", encode(windowed_value.WindowedValue(value, MIN_TIMESTAMP,
                                                                                [window.GlobalWindow()])))


@pytest.mark.parametrize("kept", ["column", "slice", "numpy", "nothing"])
def test_kept_input_is_reported_and_later_inputs_copied(helpers, tmp_path, monkeypatch, kept):  # noqa: F811
    """Letting go of an input's view fails while anything made from it lives
    on (an Arrow column, a slice of it, a numpy view of it); from then on the
    worker copies its inputs out of the arena, and a copy is let go of
    however it is kept."""
    import weir._vectorized_io as vio

    monkeypatch.setattr(vio, "_copy_inputs", False)
    rng = random.Random()
    st = add_and_big(helpers[0])
    element = batches_element(st.input_types, [[[rng.randint(-9, 9) for _ in range(50)], list(range(50))]])
    path = tmp_path / "arena"
    path.write_bytes(bytes(1 << 16))
    with open(path, "r+b") as f:
        f.write(element)
    ref = input_ref(str(path), 0, len(element), 1 << 15, 1 << 15)
    shm = read_input_ref(ref)
    batch = next(iter(pa.ipc.open_stream(pa.py_buffer(shm.data))))
    keep = {"column": lambda: batch.column(0), "slice": lambda: batch.column(1).slice(rng.randint(0, 40), 3),
            "numpy": lambda: batch.column(0).to_numpy(), "nothing": lambda: None}[kept]()
    del batch
    assert shm.let_go() == (keep is None)
    assert vio._copy_inputs == (keep is not None)
    again = read_input_ref(ref)
    assert again.data == element
    assert (type(again.data) is bytes) == (keep is not None)
    # A copy can be kept: nothing of it refers to the arena.
    kept_again = next(iter(pa.ipc.open_stream(pa.py_buffer(again.data)))).column(0) if keep is not None else None
    assert again.let_go()
    assert kept_again is None or len(kept_again) == 50


def test_shared_memory_bad_references(tmp_path):
    path = tmp_path / "arena"
    path.write_bytes(bytes(4096))
    with pytest.raises(ValueError, match="beyond the arena"):
        read_input_ref(input_ref(str(path), 4000, 200, 0, 64))
    with pytest.raises(ValueError, match="too many"):
        read_input_ref(memoryview(bytes(input_ref(str(path), 0, 10, 64, 64)) + b"\x00"))
    with pytest.raises(RuntimeError, match="shared-memory file .*missing.*python.fn-execution.shared-memory"):
        read_input_ref(input_ref(str(tmp_path / "missing"), 0, 10, 64, 64))
