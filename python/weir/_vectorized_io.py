"""The Fn API data path of vectorized stages inside the Beam harness.

A vectorized stage's elements are Arrow IPC streams of megabytes. Through
Beam's own data path each byte of them was copied about a dozen times: the
input coder copies the element's value out of the received message, and an
answer went through a bytes join, the output coder, the output stream's
buffer, a Data message, the Elements message around it and its
serialization. Here, in the worker only (installed by weir.worker):

- the input operation of a vectorized stage hands the stage a memoryview of
  each element's value inside the received message (pyarrow reads the
  record batches in place);
- the stage writes each answer straight into the serialized Elements message
  that gRPC sends (the IPC stream written by pyarrow into its final place,
  behind the message's and the windowed value's headers), and the data
  channel passes such ready messages to gRPC as they are.

The bytes on the wire are the same as Beam's: the engine cannot tell the
difference. Anything unexpected (another window or pane encoding, a stage
whose output goes elsewhere than the data channel) takes Beam's own path.

When the engine has a shared-memory arena (internal/shm), an element's value
is a reference instead of the IPC stream (``ShmInput``): the file, where the
input is and where the answer may go. The stage reads the input batches in
place (pyarrow, and pandas where the type allows, get read-only views of the
file), writes the answer's IPC stream into its region and answers with a
reference to it; an answer larger than its region goes inline. Through gRPC
each byte cost the worker more than the pandas function's work on it.

The engine reuses an input's region once the bundle is done, so nothing may
still refer to it then. After each element the stage lets go of the view it
handed to pyarrow: that fails while anything made from it lives on (a
function that keeps its argument, in a global or a cache). The bundle then
reports the input kept (KEPT_INPUTS, read by the engine, which never reuses
that bundle's input regions), and from then on this worker copies its inputs
out of the file, as it did before views.
"""

import mmap
import os


import pyarrow as pa
from apache_beam.coders import coder_impl, coders
from apache_beam.metrics import monitoring_infos
from apache_beam.portability.api import beam_fn_api_pb2, beam_fn_api_pb2_grpc
from apache_beam.runners.worker import bundle_processor, data_plane

from weir import _beam
from weir._limits import CONTINUED
from weir.proto import weir_pb2

_DATA_METHOD = "/org.apache.beam.model.fn_execution.v1.BeamFnData/Data"
_installed = False


def install():
    """Route the data of vectorized stages around Beam's copies (once per
    process, before the harness opens its data channels)."""
    global _installed
    if _installed:
        return
    _installed = True
    beam_fn_api_pb2_grpc.BeamFnDataStub = _DataStub
    data_plane.GrpcClientDataChannel = _DataChannel
    source, param = bundle_processor.BeamTransformFactory._known_urns[bundle_processor.DATA_INPUT_URN]

    def create_source(factory, transform_id, transform_proto, grpc_port, consumers):
        op = source(factory, transform_id, transform_proto, grpc_port, consumers)
        targets = [c for cs in consumers.values() for c in cs]
        wv = op.windowed_coder
        # Only what split_elements reads: bytes in the global window.
        if (type(op) is bundle_processor.DataInputOperation and len(targets) == 1
                and isinstance(targets[0], ArrowStageOperation)
                and isinstance(getattr(wv, "window_coder", None), coders.GlobalWindowCoder)
                and isinstance(getattr(wv, "wrapped_value_coder", None), coders.BytesCoder)):
            op.__class__ = _ArrowInput
            op.weir_stage = targets[0]
        elif type(op) is bundle_processor.DataInputOperation:
            op.__class__ = _Input
        return op

    sink, sink_param = bundle_processor.BeamTransformFactory._known_urns[bundle_processor.DATA_OUTPUT_URN]

    def create_sink(factory, transform_id, transform_proto, grpc_port, consumers):
        op = sink(factory, transform_id, transform_proto, grpc_port, consumers)
        if type(op) is bundle_processor.DataOutputOperation:
            op.__class__ = _Output
        return op

    bundle_processor.BeamTransformFactory.register_urn(bundle_processor.DATA_INPUT_URN, param)(create_source)
    bundle_processor.BeamTransformFactory.register_urn(bundle_processor.DATA_OUTPUT_URN, sink_param)(create_sink)
    bundle_processor.BeamTransformFactory.register_urn(_beam.ARROW_FUNCTION_URN, weir_pb2.Stage)(_create)


def _serialize(message):
    # An answer of a vectorized stage is already a serialized Elements message.
    return message if type(message) is bytes else message.SerializeToString()


class _DataStub:
    """Beam's BeamFnData stub, but one that sends ready messages as they are."""

    def __init__(self, channel):
        self.Data = channel.stream_stream(_DATA_METHOD, request_serializer=_serialize,
                                          response_deserializer=beam_fn_api_pb2.Elements.FromString)


class _DataChannel(data_plane.GrpcClientDataChannel):
    """Beam's client data channel, whose send queue also takes serialized
    Elements messages (bytes), sent alone, in order with the rest."""

    def output_stream(self, instruction_id, transform_id):
        stream = super().output_stream(instruction_id, transform_id)
        stream.weir_target = (self, instruction_id, transform_id)
        return stream

    def _get_element_size_bytes(self, element):
        if type(element) is bytes:
            return len(element)
        return super()._get_element_size_bytes(element)

    def send_ready(self, message):
        """Queue a serialized Elements message."""
        self._enqueue_to_send(message)

    def _write_outputs(self):
        done = False
        while not done:
            items = [self._to_send.get()]
            size = len(items[0]) if type(items[0]) is bytes else items[0].ByteSize()
            try:
                # As Beam: up to 100 more queued items, up to its flush size.
                while size < data_plane._DEFAULT_SIZE_FLUSH_THRESHOLD and len(items) <= 100:
                    item = self._to_send.get_nowait()
                    size += len(item) if type(item) is bytes else item.ByteSize()
                    items.append(item)
            except data_plane.queue.Empty:
                pass
            if items[-1] is self._WRITES_FINISHED:
                done = True
                items.pop()
            yield from _merged(items)


# Ready messages up to this size are joined with their neighbours (a copy);
# larger ones (answers sent inline) leave alone.
_JOIN_BYTES = 64 << 10


def _merged(items):
    """The Elements messages that send items (queued Data and Timers, and
    ready messages), in order: consecutive small ones in one message.

    Serialized Elements messages one after the other are one Elements
    message with all their data and timers, in order (repeated fields are
    appended as they are read). A vectorized stage's answer reference and
    the bundle's end of output (Beam's is_last Data) are both queued as its
    bundle ends: one message instead of two (0.2 ms less of the worker's CPU
    per bundle, 2.2 against 2.4 ms for bundles of 10,000 rows).
    """
    chunks, data, timers = [], [], []

    def beams():
        out = beam_fn_api_pb2.Elements(data=data, timers=timers).SerializeToString()
        data.clear()
        timers.clear()
        return out

    for item in items:
        if type(item) is bytes:
            if data or timers:
                chunks.append(beams())
            if len(item) > _JOIN_BYTES:
                if chunks:
                    yield b"".join(chunks)
                    chunks = []
                yield item
                continue
            chunks.append(item)
        elif isinstance(item, beam_fn_api_pb2.Elements.Timers):
            timers.append(item)
        elif isinstance(item, beam_fn_api_pb2.Elements.Data):
            data.append(item)
        else:
            raise ValueError(f"unexpected output element type {type(item)}")
    if chunks:
        if data or timers:
            chunks.append(beams())
        yield b"".join(chunks)
    elif data or timers:
        yield beam_fn_api_pb2.Elements(data=data, timers=timers)


def _varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _read_varint(view, pos):
    shift = value = 0
    while True:
        b = view[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, pos
        shift += 7


def split_elements(view):
    """The windowed values of a Data message's bytes (a memoryview) as pairs
    (header, value): the header's 13 bytes (a timestamp of 8, a count of one
    window in 4 - the global window has no bytes - and a pane of one byte
    without indices) and a memoryview of the value. At the first element
    with another header it yields (None, offset) and stops: the rest is
    Beam's to decode."""
    end = len(view)
    pos = 0
    while pos < end:
        if end - pos < 14 or view[pos + 8:pos + 12] != b"\x00\x00\x00\x01" or view[pos + 12] >> 4:
            yield None, pos
            return
        n, start = _read_varint(view, pos + 13)
        if start + n > end:
            raise ValueError(f"an input element is cut short: {n} bytes stated, {end - start} received")
        yield bytes(view[pos:pos + 13]), view[start:start + n]
        pos = start + n


# The first byte of a value that is a shared-memory reference (an IPC
# stream starts with 0xFF, a continued part with 0x00).
SHM_REF = 1

_arenas = {}  # path -> a writable memoryview of the engine's arena file, mapped once


def _arena(path):
    view = _arenas.get(path)
    if view is None:
        try:
            fd = os.open(path, os.O_RDWR)
        except OSError as e:
            raise RuntimeError(f"cannot open weir's shared-memory file {path}: {e} (the engine and its workers "
                               "must share /dev/shm; set python.fn-execution.shared-memory to false to send "
                               "batches inside the Fn API's messages)") from None
        try:
            view = memoryview(mmap.mmap(fd, 0))
        finally:
            os.close(fd)
        _arenas[path] = view
    return view


# The name of the counter by which a bundle reports how many of its inputs
# stayed referred to after their element (weir._beam.PROGRESS_NAMESPACE).
KEPT_INPUTS = "inputs_kept"

# Set when a function kept an input: from then on this worker copies each
# input out of the arena (the engine gives up only the regions reported kept).
_copy_inputs = False


class ShmInput:
    """An input element of a vectorized stage in the engine's arena: its IPC
    stream (a read-only view of the arena, or a copy once a function of this
    worker kept an input), and the region for the answer."""

    __slots__ = ("data", "arena", "out_off", "out_len")

    def __init__(self, data, arena, out_off, out_len):
        self.data, self.arena, self.out_off, self.out_len = data, arena, out_off, out_len

    def copy(self):
        """The input's bytes, copied out of the arena (and the view let go)."""
        data = self.data
        if type(data) is memoryview:
            data = bytes(data)
            self.let_go()
        return data

    def let_go(self):
        """Lets go of the view of the arena; False when something made from
        it still refers to the arena (from then on, inputs are copied)."""
        global _copy_inputs
        data, self.data = self.data, None
        if type(data) is not memoryview:
            return True
        try:
            data.release()
        except BufferError:
            _copy_inputs = True
            return False
        return True


def read_input_ref(value):
    """The ShmInput of a reference value (a memoryview starting with
    SHM_REF): the marker, the arena file's path, the input's offset and
    length, the answer region's offset and length (varints)."""
    n, pos = _read_varint(value, 1)
    path = bytes(value[pos:pos + n]).decode()
    pos += n
    nums = []
    for _ in range(4):
        x, pos = _read_varint(value, pos)
        nums.append(x)
    if pos != len(value):
        raise ValueError(f"a shared-memory reference of {len(value)} bytes has {len(value) - pos} bytes too many")
    arena = _arena(path)
    in_off, in_len, out_off, out_len = nums
    if in_off + in_len > len(arena) or out_off + out_len > len(arena):
        raise ValueError(f"a shared-memory reference beyond the arena's {len(arena)} bytes: {nums}")
    view = arena[in_off:in_off + in_len]
    # Read-only: a function that changes its argument in place cannot change
    # the engine's copy (which a replay sends again).
    data = bytes(view) if _copy_inputs else view.toreadonly()
    view.release()
    return ShmInput(data, arena, out_off, out_len)


class _Input(bundle_processor.DataInputOperation):
    """Beam's input operation, reporting in a bundle's responses only the
    read index, which the engine's progress checks read.

    As weir._beam.StageOperation.monitoring_infos: Beam's own (execution
    times, which weir does not sample, element counts and sampled sizes)
    are read by nobody, and cost each bundle's response a few hundred
    microseconds of the worker's CPU."""

    def monitoring_infos(self, transform_id, tag_to_pcollection_id):
        info = monitoring_infos.int64_counter(monitoring_infos.DATA_CHANNEL_READ_INDEX, self.index,
                                              ptransform=transform_id)
        return {monitoring_infos.to_key(info): info}


class _Output(bundle_processor.DataOutputOperation):
    """Beam's output operation, reporting nothing in a bundle's responses
    (see _Input): the engine reads nothing of it."""

    def monitoring_infos(self, transform_id, tag_to_pcollection_id):
        return {}


class _ArrowInput(_Input):
    """The input of a vectorized stage: each element's value is a memoryview
    of the received bytes, not a copy."""

    weir_stage = None

    def process_encoded(self, encoded):
        view = memoryview(encoded)
        headers = self.__dict__.setdefault("_weir_headers", {})
        for header, value in split_elements(view):
            if header is None:  # not the engine's header: Beam decodes the rest
                return super().process_encoded(bytes(view[value:]))
            wv = headers.get(header)
            if wv is None:
                if len(headers) >= 64:  # the engine sends one header; others are not kept long
                    headers.clear()
                wv = self.windowed_coder_impl.decode_from_stream(coder_impl.create_InputStream(header + b"\x00"), True)
                headers[header] = wv
            if len(value) and value[0] == SHM_REF:
                value = read_input_ref(value)
            with self.splitting_lock:
                if self.index == self.stop - 1:
                    return
                self.index += 1
            self.weir_stage.process(wv.with_value(value))


class ArrowStageOperation(_beam.StageOperation):
    """A vectorized stage that writes its answers into ready Elements
    messages when its output goes straight to the data channel."""

    weir_consumers = ()

    def start(self):
        super().start()
        self.weir_kept = 0  # inputs of this bundle still referred to after their element
        self._target = None
        if len(self.weir_consumers) == 1 and isinstance(self.weir_consumers[0], bundle_processor.DataOutputOperation):
            out = self.weir_consumers[0]
            target = getattr(out.output_stream, "weir_target", None)
            if target is not None:
                channel, instruction_id, transform_id = target
                ids = data_ids(instruction_id, transform_id)
                self._target = (channel, ids, out.windowed_coder_impl)

    def process(self, o):
        value = o.value
        if type(value) is ShmInput:
            try:
                self._process_shm(o, value)
            finally:
                if not value.let_go():
                    self.weir_kept += 1
            return
        if self._target is None:
            return super().process(o)
        with self.scoped_process_state:
            self._send_parts(self._header(o), self._op.process_parts(value))

    def _process_shm(self, o, value):
        # Every name bound to what was read from the input dies with this
        # call, before the caller lets go of the input's view.
        if self._target is None:
            return super().process(o.with_value(value.copy()))
        channel, ids, _ = self._target
        with self.scoped_process_state:
            header = self._header(o)
            results = self._op.results(value.data)
            size = stream_size(self._op, results)
            if size <= value.out_len:
                region = value.arena[value.out_off:value.out_off + size]
                write_stream(self._op, results, pa.py_buffer(region), size)
                channel.send_ready(answer_ref_message(ids, header, value.out_off, size))
                return
            self._send_parts(header, self._op.parts(results))

    def _header(self, o):
        """The encoding of o's windowed value up to its value."""
        stream = coder_impl.create_OutputStream()
        self._target[2].encode_to_stream(o.with_value(b""), stream, True)
        return stream.get()[:-1]  # without the empty value's length

    def _send_parts(self, header, parts):
        channel, ids, _ = self._target
        for i, part in enumerate(parts):
            channel.send_ready(answer_message(self._op, ids, header, part, i < len(parts) - 1))

    def monitoring_infos(self, transform_id, tag_to_pcollection_id):
        infos = super().monitoring_infos(transform_id, tag_to_pcollection_id)
        if getattr(self, "weir_kept", 0):
            info = monitoring_infos.int64_user_counter(
                _beam.PROGRESS_NAMESPACE, KEPT_INPUTS, self.weir_kept, ptransform=transform_id)
            infos[monitoring_infos.to_key(info)] = info
        return infos


def data_ids(instruction_id, transform_id):
    """The start of a serialized Elements.Data message: its instruction_id
    and transform_id fields and the tag of its data field."""
    iid, tid = instruction_id.encode(), transform_id.encode()
    return b"\x0a" + _varint(len(iid)) + iid + b"\x12" + _varint(len(tid)) + tid + b"\x1a"


def answer_message(op, ids, header, batches, continued):
    """The serialized Elements message of one answer of op (a
    VectorizedOperation): Elements(data=[Data(instruction_id, transform_id,
    data=the windowed value of the IPC stream of batches)]), with ids from
    data_ids and header the windowed value's encoding up to its value. The
    stream is written by pyarrow into its place in the message."""
    size = stream_size(op, batches)
    head = message_head(ids, header, size + (1 if continued else 0)) + (CONTINUED if continued else b"")
    # Arrow's allocation is not zeroed first, as a bytearray's is.
    buf = pa.allocate_buffer(len(head) + size)
    write_stream(op, batches, buf, size, head)
    return buf.to_pybytes()


def stream_size(op, batches):
    """The size of the IPC stream of batches (op's schema, the batches, the
    end-of-stream marker)."""
    return len(op.schema_bytes()) + sum(pa.ipc.get_record_batch_size(b) for b in batches) + len(_EOS)


def write_stream(op, batches, buf, size, head=b""):
    """Writes head, then the IPC stream of batches (size bytes, from
    stream_size), into buf (a mutable pyarrow Buffer of that size)."""
    sink = pa.FixedSizeBufferWriter(buf)
    sink.write(head)
    with pa.ipc.new_stream(sink, op.schema) as writer:
        for b in batches:
            writer.write_batch(b)
    if sink.tell() != len(head) + size:
        raise AssertionError(f"a vectorized answer of {sink.tell() - len(head)} bytes where {size} were expected")


def answer_ref_message(ids, header, off, size):
    """The serialized Elements message of an answer written into the
    engine's arena: its value is the marker, the offset and the size."""
    value = bytes([SHM_REF]) + _varint(off) + _varint(size)
    return message_head(ids, header, len(value)) + value


def message_head(ids, header, value_size):
    """The serialized Elements message of one Data element up to its value
    of value_size bytes: the Elements' data field, the Data's ids (from
    data_ids), the length of its data, the windowed value's header and the
    value's length."""
    payload = len(header) + len(_varint(value_size)) + value_size
    data = len(ids) + len(_varint(payload)) + payload
    return b"".join([b"\x0a", _varint(data), ids, _varint(payload), header, _varint(value_size)])


_EOS = b"\xff\xff\xff\xff\x00\x00\x00\x00"


def _create(factory, transform_id, transform_proto, stage, consumers):
    output_coders = factory.get_output_coders(transform_proto)
    tags = list(transform_proto.outputs.keys())
    spec = bundle_processor.operation_specs.WorkerDoFn(
        serialized_fn=None, output_tags=tags, input=None, side_inputs=None,
        output_coders=[output_coders[t] for t in tags])
    op = ArrowStageOperation(
        bundle_processor.common.NameContext(transform_proto.unique_name, transform_id),
        spec, factory.counter_factory, factory.state_sampler, stage)
    op.weir_consumers = [c for t in tags for c in consumers.get(t, ())]
    return factory.augment_oldstyle_op(op, transform_proto.unique_name, consumers, tags)
