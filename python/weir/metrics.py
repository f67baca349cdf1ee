"""Metrics of user-defined functions, reported through Beam's metrics.

A function gets its metric group from ``FunctionContext.get_metric_group()``
in ``open``, as in PyFlink::

    def open(self, ctx):
        group = ctx.get_metric_group()
        self.rows = group.counter("rows")          # inc(n=1), dec(n=1), get_count()
        self.sizes = group.distribution("sizes")   # update(value): count, sum, min, max
        self.last = group.gauge("last")            # set(value): the latest value
        group.gauge("pending", lambda: len(self.queue))  # read after each call
        self.events = group.meter("events")        # mark_event(n=1), get_count()

Values travel to the engine in the ProcessBundleResponse's monitoring infos
(Beam user metrics in the namespace "weir"); weir sums them over bundles and
workers and prints them in the job summary (``weir: metric counter rows =
1000``). Values are integers, as Beam's int64 metrics are. A gauge keeps the
value set last; with several workers or bundles running at once, "last" is
the last in wall-clock time. A gauge given a callable is read after each call
of the function that registered it, so the value at the end of each bundle is
reported. Names of sub-groups are joined with dots: ``add_group("a").counter("b")``
is ``a.b``.
"""

_NAMESPACE = "weir"


def _int(value, what):
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            as_int = int(value)
        except (TypeError, ValueError):
            raise TypeError(f"{what} takes an integer, got {type(value).__name__} {value!r}") from None
        if as_int != value:
            raise TypeError(f"{what} takes an integer, got {type(value).__name__} {value!r}")
        return as_int
    return value


class Counter:
    """A sum of increments (PyFlink's ``Counter``)."""

    def __init__(self, name):
        from apache_beam.metrics.metric import Metrics

        self.name = name
        self._c = Metrics.counter(_NAMESPACE, name)
        self._n = 0

    def inc(self, n=1):
        n = _int(n, f"counter {self.name!r}: inc")
        self._n += n
        self._c.inc(n)

    def dec(self, n=1):
        self.inc(-_int(n, f"counter {self.name!r}: dec"))

    def get_count(self):
        """The sum of this worker's increments (the job summary sums all workers')."""
        return self._n


class Meter(Counter):
    """Events counted as a counter (PyFlink's ``Meter``; weir reports no rate)."""

    def __init__(self, name, time_span_in_seconds=60):
        super().__init__(name)
        self.time_span_in_seconds = time_span_in_seconds

    def mark_event(self, value=1):
        self.inc(value)


class Distribution:
    """Count, sum, minimum and maximum of values (PyFlink's ``Distribution``)."""

    def __init__(self, name):
        from apache_beam.metrics.metric import Metrics

        self.name = name
        self._d = Metrics.distribution(_NAMESPACE, name)

    def update(self, value):
        self._d.update(_int(value, f"distribution {self.name!r}: update"))


class Gauge:
    """The latest of the values set, or of the values of a callable."""

    def __init__(self, name, fn=None):
        from apache_beam.metrics.metric import Metrics

        if fn is not None and not callable(fn):
            raise TypeError(f"gauge {name!r}: the second argument must be a callable returning an int, got {fn!r}")
        self.name = name
        self._g = Metrics.gauge(_NAMESPACE, name)
        self._fn = fn

    def set(self, value):
        self._g.set(_int(value, f"gauge {self.name!r}: set"))

    def refresh(self):
        """Set the gauge to the value of its callable, if it has one."""
        if self._fn is not None:
            self.set(self._fn())


class MetricGroup:
    """Counters, gauges, distributions and meters of one function, as PyFlink's."""

    def __init__(self, prefix="", _gauges=None):
        self._prefix = prefix
        # Shared with the sub-groups: refresh_gauges reads them all.
        self._gauges = [] if _gauges is None else _gauges

    def _name(self, name):
        if not isinstance(name, str) or not name:
            raise TypeError(f"a metric name must be a non-empty string, got {name!r}")
        return f"{self._prefix}{name}"

    def add_group(self, name, extra=None):
        """A sub-group: its metrics are named ``name.metric`` (``name.extra.metric`` with extra)."""
        group = name if extra is None else f"{name}.{extra}"
        return MetricGroup(self._name(group) + ".", self._gauges)

    def counter(self, name):
        return Counter(self._name(name))

    def meter(self, name, time_span_in_seconds=60):
        return Meter(self._name(name), time_span_in_seconds)

    def distribution(self, name):
        return Distribution(self._name(name))

    def gauge(self, name, obj=None):
        """A gauge; with ``obj``, a callable, its value is read after each call of the function."""
        g = Gauge(self._name(name), obj)
        if obj is not None:
            self._gauges.append(g)
        return g

    def has_callable_gauges(self):
        return bool(self._gauges)

    def refresh_gauges(self):
        """Set every gauge that has a callable to the callable's value."""
        for g in self._gauges:
            g.refresh()
