"""weir's transforms inside the Beam Python SDK harness.

Registers the URNs of weir's Python stages with the harness. The harness
hands each stage one element per batch of rows (bytes in weir's row format,
in a windowed value); the stage answers with one element of encoded results,
or several when they are large (see weir._limits and docs/WIRE_FORMAT.md).
"""

import gc
import os
import sys
import threading

from apache_beam.runners.worker import bundle_processor, operation_specs, operations
from apache_beam.metrics import monitoring_infos
from apache_beam.runners import common

from weir.proto import weir_pb2

SCALAR_FUNCTION_URN = "weir:transform:scalar_function:v1"
TABLE_FUNCTION_URN = "weir:transform:table_function:v1"
ARROW_FUNCTION_URN = "weir:transform:arrow_function:v1"
# The namespace of weir's own progress counter (not shown as a user metric).
PROGRESS_NAMESPACE = "weir.progress"
# Written to stdout and stderr before user code first runs: the engine logs
# what came before (the harness starting up) at debug level and what follows
# (print in a function) as the user's output. Equal to worker.UserOutputMarker
# in Go.
USER_OUTPUT_MARKER = "weir.worker: user code starts"
_user_output_marked = False


def mark_user_output():
    """Write USER_OUTPUT_MARKER once, after anything buffered before it."""
    global _user_output_marked
    if _user_output_marked:
        return
    _user_output_marked = True
    line = (USER_OUTPUT_MARKER + "\n").encode()
    for stream, fd in ((sys.stdout, 1), (sys.stderr, 2)):
        try:
            if stream is not None:
                stream.flush()
            os.write(fd, line)
        except (OSError, ValueError):
            pass


def no_sampling_threads():
    """Bundles run without Beam's state sampler thread.

    Beam starts a thread per bundle that wakes every few milliseconds to
    add the time spent in each state to its msec counters, and joins it at
    the bundle's end (waiting out its sleep). weir reads none of those
    counters (the engine watches element and row counts), so the sampler
    here only keeps track of the current state, which metrics need; its
    msec counters stay 0. Once per process, in the worker only.
    """
    from apache_beam.runners.worker import statesampler

    if getattr(statesampler.StateSampler, "weir_no_thread", False):
        return

    def start(self):
        self.tracked_thread = threading.current_thread()
        statesampler.set_current_tracker(self)
        self.started = True

    def stop(self):
        statesampler.set_current_tracker(None)
        self.finished = True

    statesampler.StateSampler.start = start
    statesampler.StateSampler.stop = stop
    statesampler.StateSampler.weir_no_thread = True


def _import_pandas_for(stage):
    """Import pandas for a stage of pandas functions, the collector paused.

    The worker imports pandas only for such stages (weir.worker's
    _NoPandasForBeam), after its start-up: the import makes hundreds of
    thousands of objects, which would start collections traversing them
    (~0.04 CPU s). As for the worker's start-up, they are imported with the
    collector off and then frozen out of it, once per process.
    """
    if "pandas" in sys.modules or not any(f.func_type == "pandas" for f in stage.functions):
        return
    enabled = gc.isenabled()
    gc.disable()
    try:
        import pandas  # noqa: F401
    except ImportError:
        pass  # the operation reports it, with the function's name
    finally:
        if enabled:
            gc.freeze()
            gc.enable()


class StageOperation(operations.Operation):
    """A Beam operation that runs a weir stage over each element."""

    def __init__(self, name_context, spec, counter_factory, state_sampler, stage):
        super().__init__(name_context, spec, counter_factory, state_sampler)
        self._stage = stage
        self._op = None

    def setup(self, data_sampler=None):
        super().setup(data_sampler)
        from weir import operations as ops

        # The operation imports the user's modules: their output is the user's.
        mark_user_output()

        if self._stage.kind == weir_pb2.Stage.VECTORIZED:
            _import_pandas_for(self._stage)
            from weir._vectorized import VectorizedOperation as cls
        else:
            cls = ops.ScalarOperation if self._stage.kind == weir_pb2.Stage.SCALAR else ops.TableOperation
        self._op = cls(self._stage)

    def process(self, o):
        receive = self.receivers[0].receive
        with self.scoped_process_state:
            # Large results leave in several elements (weir._limits): every
            # part but the last goes out through emit as soon as it is full.
            receive(o.with_value(self._op.process(o.value, lambda part: receive(o.with_value(part)))))

    def monitoring_infos(self, transform_id, tag_to_pcollection_id):
        # Only what the engine reads (internal/pyexec: metrics.go,
        # progress.go): the functions' metrics, and the input rows processed
        # so far, which it reads in progress responses (an element holds
        # thousands of rows, so element counters alone cannot tell a slow
        # function from a stuck one). Beam's own, the execution times (weir
        # does not sample them) and the output's element count and sampled
        # sizes, were a third of the worker's CPU per bundle outside the
        # functions (~0.4 ms), in every bundle's response.
        infos = self.user_monitoring_infos(transform_id)
        if self._op is not None:
            info = monitoring_infos.int64_user_counter(
                PROGRESS_NAMESPACE, "rows_done", self._op.rows_done, ptransform=transform_id)
            infos[monitoring_infos.to_key(info)] = info
        return infos

    def __repr__(self):
        return f"StageOperation[{self._stage.name}]"


def _create(factory, transform_id, transform_proto, stage, consumers):
    output_coders = factory.get_output_coders(transform_proto)
    tags = list(transform_proto.outputs.keys())
    spec = operation_specs.WorkerDoFn(
        serialized_fn=None, output_tags=tags, input=None, side_inputs=None,
        output_coders=[output_coders[t] for t in tags])
    op = StageOperation(
        common.NameContext(transform_proto.unique_name, transform_id),
        spec, factory.counter_factory, factory.state_sampler, stage)
    return factory.augment_oldstyle_op(op, transform_proto.unique_name, consumers, tags)


bundle_processor.BeamTransformFactory.register_urn(SCALAR_FUNCTION_URN, weir_pb2.Stage)(_create)
bundle_processor.BeamTransformFactory.register_urn(TABLE_FUNCTION_URN, weir_pb2.Stage)(_create)
# Vectorized (pandas and Arrow) functions: elements are Arrow IPC streams (weir._vectorized).
bundle_processor.BeamTransformFactory.register_urn(ARROW_FUNCTION_URN, weir_pb2.Stage)(_create)
# Python aggregate functions in streaming mode, with state in the engine.
import weir._state_aggregate  # noqa: E402,F401  registers weir:transform:keyed_aggregate:v1
# Python table aggregate functions in streaming mode, likewise.
import weir._state_table_aggregate  # noqa: E402,F401  registers weir:transform:keyed_table_aggregate:v1
