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
from weir._vectorized_io import _DataChannel, _serialize, answer_message, data_ids, split_elements

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


@pytest.mark.parametrize("part_bytes", [None, 3_000])
def test_answers_are_beams_encoding(helpers, part_bytes):  # noqa: F811
    """Each part of an answer, written in place, is the Elements message
    Beam would send for it: the same bytes."""
    name, _ = helpers
    rng = random.Random()
    st = stage(name, [(0, [column(0, "BIGINT"), column(1, "BIGINT")], "BIGINT"),
                      (1, [column(0, "BIGINT")], "STRING")],
               ["BIGINT", "BIGINT"], [("add", "BIGINT", "pandas"), ("big", "STRING", "pandas")])
    op = VectorizedOperation(st)
    if part_bytes:
        op.part_bytes = part_bytes
    batches = []
    for _ in range(rng.randint(1, 5)):
        n = rng.randint(0, 40)
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
    """Ready messages (bytes) leave alone, between Beam's own messages, in
    the order they were queued."""
    rng = random.Random()
    stub = _Requests()
    channel = _DataChannel(stub)
    want = []
    for i in range(rng.randint(5, 30)):
        data = os.urandom(rng.randint(0, 3000))
        if rng.random() < 0.5:
            channel.send_ready(beam_message("b", f"t{i}", data))
        else:
            channel._enqueue_to_send(beam_fn_api_pb2.Elements.Data(instruction_id="b", transform_id=f"t{i}", data=data))
        want.append((f"t{i}", data))
    channel._enqueue_to_send(beam_fn_api_pb2.Elements.Data(instruction_id="b", transform_id="end", is_last=True))
    channel.close()
    got = []
    for m in stub.requests:
        got += [(d.transform_id, d.data) for d in beam_fn_api_pb2.Elements.FromString(_serialize(m)).data]
    assert got == want + [("end", b"")]
