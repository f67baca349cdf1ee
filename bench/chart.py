"""Draws the suite's throughput chart (PNG) from its JSON; run with bench/.venv-tools' python."""

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

SYSTEMS = [("weir", "-", "weir", "#1f77b4"), ("pyflink", "process", "PyFlink process", "#ff7f0e"),
           ("pyflink", "thread", "PyFlink thread", "#2ca02c")]


def find(res, **kw):
    for r in res:
        if all(r.get(k) == v for k, v in kw.items()):
            return r
    return None


def bars(ax, groups, res, workload, per_call):
    width = 0.8 / len(SYSTEMS)
    for i, (system, mode, label, color) in enumerate(SYSTEMS):
        xs, ys = [], []
        for g, (cols, workers) in enumerate(groups):
            r = find(res, system=system, workload=workload, columns=cols, workers=workers,
                     **({"mode": mode} if system == "pyflink" else {}))
            if r:
                xs.append(g + (i - 1) * width)
                ys.append(r["rows_per_s"] * (cols if per_call else 1) / 1e6)
        if xs:
            b = ax.bar(xs, ys, width, label=label, color=color)
            ax.bar_label(b, labels=[f"{y:.2g}" for y in ys], fontsize=8, padding=2)


def pad(ax):
    """Room under the smallest bar's label and over the largest."""
    lo, hi = ax.get_ylim()
    ax.set_ylim(lo / 2, hi * 2)


def main():
    data = json.load(open(sys.argv[1]))
    res = data["results"]
    floor = data["floor"]
    m = data["machine"]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(13, 6.2), gridspec_kw={"width_ratios": [2, 1.2]})

    groups = [(1, 1), (1, 2), (10, 1), (10, 2)]
    bars(a1, groups, res, "flip121", per_call=True)
    a1.axhline(1e3 / floor["inc"]["ns_per_call"], color="k", ls="--", lw=1,
               label=f"CPython floor, one core ({floor['inc']['ns_per_call']:.0f} ns/call)")
    a1.set_xticks(range(len(groups)))
    a1.set_xticklabels([f"{c} column{'s' if c > 1 else ''}\n{w} worker{'s' if w > 1 else ''}" for c, w in groups])
    a1.set_yscale("log")
    pad(a1)
    a1.set_ylabel("million inc calls / s (log)")
    a1.set_title("FLIP-121 job: datagen -> inc(c_i) -> blackhole")
    a1.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=4, frameon=False)
    a1.grid(axis="y", which="both", alpha=0.3)

    wls = [("upper", "py_upper(s), 32 chars"), ("udtf", "split_words(s), 64 chars")]
    width = 0.8 / (len(SYSTEMS) + 1)
    for i, (system, mode, label, color) in enumerate(SYSTEMS):
        xs, ys = [], []
        for g, (wl, _) in enumerate(wls):
            r = find(res, system=system, workload=wl, **({"mode": mode} if system == "pyflink" else {}))
            if r:
                xs.append(g + (i - 1.5) * width)
                ys.append(r["rows_per_s"] / 1e6)
        if xs:
            b = a2.bar(xs, ys, width, label=label, color=color)
            a2.bar_label(b, labels=[f"{y:.2g}" for y in ys], fontsize=8, padding=2)
    xs = [g + 1.5 * width for g in range(len(wls))]
    ys = [1e3 / floor[wl]["ns_per_call"] for wl, _ in wls]
    b = a2.bar(xs, ys, width, label="CPython floor", color="#999999")
    a2.bar_label(b, labels=[f"{y:.2g}" for y in ys], fontsize=8, padding=2)
    a2.set_xticks(range(len(wls)))
    a2.set_xticklabels([t for _, t in wls])
    a2.set_yscale("log")
    pad(a2)
    a2.set_ylabel("million input rows / s (log)")
    a2.set_title("Strings and a table function (1 worker)")
    a2.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, frameon=False)
    a2.grid(axis="y", which="both", alpha=0.3)

    fig.suptitle(f"weir vs PyFlink {data.get('pyflink_version', '')} vs bare CPython — {data['date']}, "
                 f"{m['host']}: {m['nproc']} cores, {m['cpu_model']}, Python {m['python']}", fontsize=10)
    fig.text(0.5, 0.01, "rows/s from each job's own time (PyFlink: warmed-up JVM, fixed per-job cost included); "
             "same machine, same run", ha="center", fontsize=8, color="#555555")
    fig.tight_layout(rect=(0, 0.03, 1, 0.95))
    fig.savefig(sys.argv[2], dpi=110)


if __name__ == "__main__":
    main()
