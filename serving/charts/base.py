"""What every chart shares: a fresh figure, the SVG text, the colours, labels and ids.

Every chart is drawn on a fresh ``matplotlib.figure.Figure`` and saved with the SVG backend;
``pyplot`` is never used, so there is no global figure state. matplotlib is imported lazily
inside the functions: importing this module has no side effects.

The SVG text is trimmed for inlining into HTML: no XML prolog, no DOCTYPE, no RDF metadata.
Text is kept as ``<text>`` elements (``svg.fonttype = none``) and element ids are salted per
chart, so two charts in one page never share an id and the output is deterministic.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

PRIMARY_MODEL = "lightgbm"
NAN_COLOR = "#bdbdbd"
LOW_COLOR = "#1e88e5"
HIGH_COLOR = "#ff0d57"
MODEL_COLORS = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf")
_METADATA_RE = re.compile(r"<metadata>.*?</metadata>\s*", re.DOTALL)


def order_models(models: Iterable[str]) -> list[str]:
    """Distinct model names in order of appearance, with the primary model (LightGBM) first."""
    seen = list(dict.fromkeys(str(m) for m in models))
    return sorted(seen, key=lambda m: m != PRIMARY_MODEL)


def model_color(i: int) -> str:
    """The colour of the ``i``-th model in ``order_models`` order (the primary model's is red)."""
    return MODEL_COLORS[i % len(MODEL_COLORS)]


def require_columns(frame: pd.DataFrame, columns: Iterable[str], name: str) -> None:
    """Raise ``ValueError`` naming the columns of ``columns`` that ``frame`` lacks."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} lacks the column(s) {', '.join(missing)}.")


def new_figure(width: float, height: float) -> Figure:
    """A fresh transparent figure of ``width`` x ``height`` inches, constrained layout."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    fig.patch.set_alpha(0.0)
    return fig


def to_svg(fig: Figure, salt: str) -> str:
    """The figure as inline SVG text: ids salted with ``salt``, no prolog, no metadata."""
    import matplotlib

    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt}):
        fig.savefig(buffer, format="svg", dpi=150, metadata={"Date": None})
    text = buffer.getvalue().decode("utf-8")
    text = text[text.index("<svg") :]
    return _METADATA_RE.sub("", text).strip() + "\n"


def no_data(ax: Axes, message: str) -> None:
    """Replace the axes by a centred grey ``message``."""
    ax.text(0.5, 0.5, message, ha="center", va="center", color="#777777")
    ax.set_axis_off()


def plain(label: str) -> str:
    """A label matplotlib prints literally (a ``$`` would otherwise start mathtext)."""
    return str(label).replace("$", r"\$")


def slug(name: str) -> str:
    """``name`` reduced to the characters allowed in an SVG id (others become ``-``)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", str(name)).strip("-") or "x"


def hide_spines(ax: Axes, sides: Iterable[str] = ("top", "right")) -> None:
    """Hide the axes' spines on ``sides``."""
    for side in sides:
        ax.spines[side].set_visible(False)


def number_axis(ax: Axes, lang: str = "nl", axis: str = "x") -> None:
    """Tick labels of ``axis`` written in ``lang`` (a decimal comma in Dutch: '−2,5')."""
    from matplotlib.ticker import FuncFormatter

    from serving.formatting import check_lang, number

    chosen = check_lang(lang)
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_formatter(FuncFormatter(lambda v, _: number(v, lang=chosen)))
