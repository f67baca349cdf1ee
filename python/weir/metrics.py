"""Metrics of user-defined functions, reported through Beam's metrics.

Values travel to the engine in the ProcessBundleResponse's monitoring infos;
weir prints them in the job summary.
"""

_NAMESPACE = "weir"


class Counter:
    def __init__(self, name):
        from apache_beam.metrics.metric import Metrics

        self._c = Metrics.counter(_NAMESPACE, name)
        self._n = 0

    def inc(self, n=1):
        self._n += n
        self._c.inc(n)

    def dec(self, n=1):
        self.inc(-n)

    def get_count(self):
        return self._n


class Distribution:
    def __init__(self, name):
        from apache_beam.metrics.metric import Metrics

        self._d = Metrics.distribution(_NAMESPACE, name)

    def update(self, value):
        self._d.update(int(value))


class Gauge:
    def __init__(self, name, fn=None):
        from apache_beam.metrics.metric import Metrics

        self._g = Metrics.gauge(_NAMESPACE, name)
        self._fn = fn

    def set(self, value):
        self._g.set(int(value))

    def refresh(self):
        if self._fn is not None:
            self.set(self._fn())


class MetricGroup:
    """Counters, gauges and distributions of one function, as PyFlink's."""

    def __init__(self, prefix=""):
        self._prefix = prefix
        self._gauges = []

    def _name(self, name):
        return f"{self._prefix}{name}"

    def add_group(self, name, extra=None):
        group = name if extra is None else f"{name}.{extra}"
        return MetricGroup(self._name(group) + ".")

    def counter(self, name):
        return Counter(self._name(name))

    def distribution(self, name):
        return Distribution(self._name(name))

    def gauge(self, name, obj=None):
        g = Gauge(self._name(name), obj)
        self._gauges.append(g)
        return g

    def refresh_gauges(self):
        for g in self._gauges:
            g.refresh()
