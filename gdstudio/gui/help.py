"""Help ▸ Help (F1) and Help ▸ About: generated from the core, nothing written twice.

The help view has a page per optimizer, built from the core's registry
(:data:`gdstudio.core.optimizers.OPTIMIZERS`): its ``title``, its update ``rule``, its class docstring
(numpydoc; ``.. math::`` blocks are shown as their LaTeX source, doctest examples are left out), a table of
its ``hyperparams`` (name, default, range, meaning) and its ``reference``; a page of the built-in
objectives (their formula and domain); and the formula help of
:func:`gdstudio.gui.views.formula_field.help_html` (from :data:`gdstudio.core.formula.HELP`).
"""

from __future__ import annotations

import html
import inspect
import re

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QListWidget,
    QMessageBox,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from gdstudio import __version__
from gdstudio.core.objectives import get_objective, objective_names
from gdstudio.core.optimizers import OPTIMIZERS
from gdstudio.gui.views.formula_field import help_html as formula_help_html
from gdstudio.gui.views.rule_editor import rules_help_html

LICENCE = "MIT"
#: The keys listed when no window is given (a window lists its own actions' shortcuts: see :func:`shortcuts`).
SHORTCUTS = (
    ("F5", "Run"), ("Space", "Pause / resume"), ("F10", "One step"), ("Ctrl+R", "Reset"),
    ("F6", "Learning-rate sweep"), ("F7", "Race optimizers"),
    ("Ctrl+O", "Open session"), ("Ctrl+S", "Save session"), ("Ctrl+E", "Export trajectory (CSV)"),
    ("Ctrl+L", "Log scale (loss)"), ("Home", "Reset camera"), ("Ctrl+Q", "Quit"), ("F1", "This help"),
)


def shortcuts(window) -> list[tuple[str, str]]:
    """(key, what it does) for every action of ``window``'s menus that has a shortcut, in menu order: the
    Getting started page is generated from the actions, so a new shortcut is listed without a second edit."""
    from PySide6.QtGui import QKeySequence

    out: list[tuple[str, str]] = []

    def walk(menu) -> None:
        for a in menu.actions():
            if a.menu() is not None:
                walk(a.menu())
            elif not a.isSeparator() and not a.shortcut().isEmpty():
                key = a.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
                text = a.text().replace("&", "").rstrip("…")
                if (key, text) not in out:
                    out.append((key, text))

    for top in window.menuBar().actions():
        if top.menu() is not None:
            walk(top.menu())
    return out


#: LaTeX of the docstrings' formulas as plain symbols (the help view shows text, not typeset maths).
_SYMBOLS = {
    "qquad": "    ", "quad": "  ", "nabla": "∇", "varepsilon": "ε", "epsilon": "ϵ", "mu": "μ", "tau": "τ",
    "lambda": "λ", "alpha": "α", "beta": "β", "gamma": "γ", "sigma": "σ", "rho": "ρ", "xi": "ξ", "eta": "η",
    "theta": "θ", "delta": "δ", "Delta": "Δ", "varphi": "φ", "phi": "φ", "ge": "≥", "geq": "≥", "le": "≤",
    "leq": "≤", "cdot": "·", "odot": "⊙", "times": "×", "approx": "≈", "leftarrow": "←", "gets": "←",
    "to": "→", "infty": "∞", "sim": "~", "top": "ᵀ", "in": "∈", "dots": "…", "ldots": "…", "lVert": "‖",
    "rVert": "‖", "max": "max", "min": "min", "left": "", "right": "", "big": "", "Big": "", "bigl": "",
    "bigr": "", "begin": "", "end": "", "mathcal": "", "mathrm": "", "mathbf": "", "text": "",
    "operatorname": "", "sum": "Σ", "prod": "Π", "partial": "∂", "ne": "≠", "neq": "≠", "log": "log",
    "exp": "exp", "arg": "arg", "argmin": "argmin", "argmax": "argmax", "pi": "π", "omega": "ω", "kappa": "κ", "nu": "ν",
    "Sigma": "Σ", "mid": "|", "cap": "∩", "cup": "∪", "forall": "∀", "mathbb": "", "ell": "ℓ",
}
_ACCENTS = {"hat": "\u0302", "bar": "\u0304", "tilde": "\u0303"}
#: Unicode sub- and superscripts for the characters that have one (``b_{k+1}`` → ``bₖ₊₁``, ``v^{-1}`` → ``v⁻¹``).
_SUB = dict(zip("0123456789+-=()aehijklmnoprstuvx−",
                "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ₋"))
_SUP = dict(zip("0123456789+-=()abcdefghijklmnoprstuvwxyzT−",
                "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᵀ⁻"))


def _script(mark: str, body: str) -> str:
    """``_{body}`` / ``^{body}`` as Unicode sub/superscripts; when a character has none, as ``_(body)`` /
    ``^(body)`` (``argmin_{t ≥ 0}``), never the raw LaTeX braces."""
    table = _SUB if mark == "_" else _SUP
    compact = body.replace(" ", "")
    if compact and all(c in table for c in compact):
        return "".join(table[c] for c in compact)
    return f"{mark}({body.strip()})" if len(body.strip()) > 1 else f"{mark}{body.strip()}"


def latex_to_text(tex: str) -> str:
    """Common LaTeX of the docstrings as readable text (``\\nabla f`` → ``∇ f``); unknown commands stay."""
    t = tex
    for _ in range(4):  # innermost first: \frac{m}{\sqrt{v}} takes two rounds
        t = re.sub(r"\\sqrt\{([^{}]*)\}", r"√(\1)", t)
        t = re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", r"(\1)/(\2)", t)
    t = re.sub(r"\\frac\s*([A-Za-z0-9])\s*([A-Za-z0-9])", r"\1/\2 ", t)  # \frac1n → 1/n
    t = re.sub(r"\\operatorname\*?\{([^{}]*)\}", lambda m: m.group(1).replace("\\,", ""), t)  # arg\,min → argmin
    t = re.sub(r"\\(hat|bar|tilde)\s*\{?(\\[A-Za-z]+|[A-Za-z])\}?",
               lambda m: _SYMBOLS.get(m.group(2)[1:], m.group(2)) + _ACCENTS[m.group(1)], t)
    t = re.sub(r"\\begin\{cases\}(.*?)\\end\{cases\}",
               lambda m: "{ " + m.group(1).replace("&", " if ").replace("\\\\", ";") + " }", t, flags=re.S)
    t = t.replace("\\#", "#").replace("\\{", "\x01").replace("\\}", "\x02").replace("\\ ", " ")
    t = t.replace("\\,", " ").replace("\\;", " ").replace("\\!", "").replace("\\\\", "\n").replace("*", "")
    t = re.sub(r"\\([A-Za-z]+)", lambda m: _SYMBOLS.get(m.group(1), m.group(0)), t)
    t = re.sub(r"(?<![A-Za-z0-9_^])\{([^{}]*)\}", r"\1", t)  # braces that only grouped (not after _ or ^)
    t = re.sub(r"([_^])\{([^{}]*)\}", lambda m: _script(m.group(1), m.group(2)), t)  # b_{k+1} → bₖ₊₁
    t = re.sub(r"(?<=[\w)\u0300-\u036fᵀ])([_^])([A-Za-z0-9])", lambda m: _script(m.group(1), m.group(2)), t)
    t = t.replace("^ᵀ", "ᵀ")  # y^\top
    return t.replace("\x01", "{").replace("\x02", "}")  # literal braces (\{ \}) kept


def _inline(text: str) -> str:
    """numpydoc inline markup to HTML: ``code``, :math:`x`, *emphasis*."""
    t = html.escape(text, quote=False)
    t = re.sub(r":math:`([^`]*)`", lambda m: "<i>" + latex_to_text(m.group(1)) + "</i>", t)
    t = re.sub(r":(?:class|func|meth|data|attr|mod):`~?([^`]*)`", r"<code>\1</code>", t)
    t = re.sub(r"``([^`]*)``", r"<code>\1</code>", t)
    return t


#: A definition line of a docstring: a short term at the start of the line (not ending a sentence), two or
#: more spaces, then its description; the description's continuation lines are indented.
_DEFINITION = re.compile(r"^(\S(?:\S| (?! )){0,40}?)(?<![.,;:]) {2,}(\S.*)$")


def docstring_html(doc: str | None) -> str:
    """A docstring as simple HTML: paragraphs, ``.. math::`` blocks as preformatted LaTeX, definition lists
    (``term   description`` with indented continuation lines) as a table, ``- `` bullets as a list; no doctests."""
    if not doc:
        return ""
    lines = inspect.cleandoc(doc).split("\n")
    out: list[str] = []
    para: list[str] = []
    rows: list[list[str]] = []  # [term, description] of the definition list being read
    bullets: list[list[str]] = []
    i = 0

    def flush():
        if para:
            out.append("<p>" + _inline(" ".join(s.strip() for s in para)) + "</p>")
            para.clear()
        if rows:
            out.append("<table cellspacing='4'>" + "".join(
                f"<tr><td valign='top'><b>{_inline(t)}</b></td><td>{_inline(' '.join(d))}</td></tr>"
                for t, *d in rows) + "</table>")
            rows.clear()
        if bullets:
            out.append("<ul>" + "".join(f"<li>{_inline(' '.join(b))}</li>" for b in bullets) + "</ul>")
            bullets.clear()

    while i < len(lines):
        line = lines[i]
        s = line.strip()
        if s.startswith(">>>"):  # a doctest: skip it and its output (up to a blank line)
            flush()
            while i < len(lines) and lines[i].strip():
                i += 1
            continue
        if s.startswith(".. math::"):
            flush()
            i += 1
            block = []
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith((" ", "\t"))):
                block.append(lines[i])
                i += 1
            out.append("<pre>" + html.escape(latex_to_text(inspect.cleandoc("\n".join(block)))) + "</pre>")
            continue
        m = _DEFINITION.match(line)
        if not s:
            flush()
        elif line.startswith("- "):
            if para or rows:
                flush()
            bullets.append([s[2:]])
        elif bullets and line.startswith("  "):
            bullets[-1].append(s)
        elif m:
            if para or bullets:
                flush()
            rows.append([m.group(1).strip(), m.group(2).strip()])
        elif rows and line.startswith(" "):
            rows[-1].append(s)
        else:
            if rows or bullets:
                flush()
            para.append(s)
        i += 1
    flush()
    return "".join(out)


def optimizer_html(name: str) -> str:
    cls = OPTIMIZERS[name]
    rows = "".join(
        f"<tr><td><code>{html.escape(h.name)}</code></td><td>{html.escape(str(h.default))}</td>"
        f"<td>{html.escape(h.range_text())}</td><td>{_inline(h.doc)}</td></tr>" for h in cls.hyperparams)
    table = ("<table border='0' cellspacing='6'><tr><th align='left'>hyperparameter</th><th align='left'>default"
             "</th><th align='left'>range</th><th align='left'>meaning</th></tr>" + rows + "</table>"
             if rows else "<p>No hyperparameters.</p>")
    ref = f"<p><b>Reference:</b> {html.escape(cls.reference)}</p>" if cls.reference else ""
    return (f"<h2>{html.escape(cls.title or name)} <small>(<code>{html.escape(name)}</code>)</small></h2>"
            f"<p style='font-size: large'><b>Update rule:</b> {html.escape(cls.rule)}</p>"
            + docstring_html(cls.__doc__) + "<h3>Hyperparameters</h3>" + table + ref)


def objectives_html() -> str:
    rows = []
    for name in objective_names():
        f = get_objective(name)
        dom = " × ".join(f"[{lo:g}, {hi:g}]" for lo, hi in f.domain)
        rows.append(f"<tr><td><b>{html.escape(f.title or name)}</b></td><td><code>{html.escape(f.formula)}"
                    f"</code></td><td>{html.escape(dom)}</td></tr>")
    return ("<h2>Objectives</h2><p>The built-in loss surfaces (choose one in Problem ▸ objective, or type your own "
            "function).</p><table cellspacing='6'>" + "".join(rows) + "</table>")


def start_html(keys_list=None) -> str:
    keys = "".join(f"<tr><td><b>{html.escape(k)}</b></td><td>{html.escape(v)}</td></tr>"
                   for k, v in (keys_list or SHORTCUTS))
    return ("<h2>gdstudio</h2><p>Choose a loss surface and an optimizer on the left, then press <b>Run</b> "
            "(or click a view to start from there). The path moves across the 3D surface and the contour map; "
            "the loss chart shows f against the step. Each page on the left explains one optimizer: its "
            "update rule, what its hyperparameters do and where it comes from.</p>"
            "<h3>Keys</h3><table cellspacing='6'>" + keys + "</table>")


def models_html() -> str:
    """Model mode: how to use it, then the core's own account of the models, datasets and training."""
    from gdstudio.core import data, models, training

    return ("<h2>Models and datasets</h2><p>Choose <b>Model</b> under Problem to train a real classifier on a real "
            "dataset with the same optimizers: pick a dataset, a model and a batch size, then press <b>Run</b>. "
            "The loss and accuracy curves show training and validation; the 3D view and the contour map show the "
            "loss on a plane through the parameters with the training path projected onto it (see Loss "
            "landscapes); Race (F7) and Sweep (F6) compare optimizers and learning rates on the same training. "
            "From the command line: <code>gdstudio train</code> and <code>gdstudio landscape</code>.</p>"
            "<h3>See why a training step went where it went</h3><p>Open <b>See why</b> (toolbar) in Model mode and "
            "pick a run and a step (the latest by default). <b>Step</b>: the loss L, ‖∇L‖, the update Δθ = θ<sub>k+1"
            "</sub> − θ<sub>k</sub>, the effective step ‖Δθ‖/‖∇L‖ and cos∠(Δθ, −∇L): 1 for gradient descent, less "
            "for momentum and Adam. <b>Line search</b>: the loss along the update, L(θ + t·Δθ/‖Δθ‖), with the point "
            "taken (★, t = ‖Δθ‖), the line's minimum (◆) and the linear approximation L(θ) + t∇L·d: a star past the "
            "diamond overshoots, a star near 0 with the diamond far away means ε is too small. <b>Gradient "
            "check</b>: the analytic gradient against central differences on a few random coordinates. The numbers "
            "use the step's own minibatch unless <i>whole training set</i> is ticked.</p>"
            "<h3>Models</h3>" + docstring_html(models.__doc__) + "<h3>Datasets</h3>" + docstring_html(data.__doc__)
            + "<h3>Training</h3>" + docstring_html(training.__doc__))


def landscapes_html() -> str:
    from gdstudio.core import landscape

    return ("<h2>Loss landscapes</h2><p>A model has thousands of parameters, so its loss cannot be drawn whole: "
            "the views show it on a line or a plane through the parameters, and project the training path "
            "onto that plane. Model mode ▸ Landscape chooses the directions, the span and the grid.</p>"
            + docstring_html(landscape.__doc__))


def basins_html() -> str:
    from gdstudio.core import basins

    return ("<h2>Basins of attraction</h2><p><b>View ▸ Basins of attraction</b> (Ctrl+B) starts the current "
            "optimizer from every point of a grid and colours each point by where its run ends. Hover a point to "
            "read where its start goes; click it to run from there. From the command line: "
            "<code>gdstudio basins</code>.</p>" + docstring_html(basins.__doc__))


class HelpDialog(QDialog):
    """A non-modal help window: topics on the left, the page on the right."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("gdstudio help")
        self.setObjectName("help_dialog")
        main = parent.window() if parent is not None else None
        keys = shortcuts(main) if main is not None and hasattr(main, "menuBar") else None
        self.pages: dict[str, str] = {"Getting started": start_html(keys)}
        for name, cls in OPTIMIZERS.items():
            self.pages[cls.title or name] = optimizer_html(name)
        self.pages["Objectives"] = objectives_html()
        self.pages["Your own function"] = "<h2>Your own function f(x, y)</h2>" + formula_help_html()
        self.pages["Your own update rule"] = rules_help_html()
        self.pages["Basins of attraction"] = basins_html()
        self.pages["Models and datasets"] = models_html()
        self.pages["Loss landscapes"] = landscapes_html()
        lay = QVBoxLayout(self)
        row = QHBoxLayout()
        self.topics = QListWidget()
        self.topics.addItems(list(self.pages))
        self.topics.setMaximumWidth(230)
        row.addWidget(self.topics)
        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)
        row.addWidget(self.browser, 1)
        lay.addLayout(row, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        lay.addWidget(buttons)
        self.topics.currentTextChanged.connect(self.show_topic)
        self.topics.setCurrentRow(0)
        self.resize(900, 640)

    def show_topic(self, topic: str) -> None:
        if topic in self.pages:
            self.browser.setHtml(self.pages[topic])
            items = self.topics.findItems(topic, Qt.MatchFlag.MatchExactly)
            if items and self.topics.currentItem() is not items[0]:
                self.topics.setCurrentItem(items[0])

    def show_optimizer(self, name: str) -> None:
        if name.startswith("rule:"):  # the user's own rule: the page of the rule language
            self.show_topic("Your own update rule")
            return
        cls = OPTIMIZERS.get(name)
        if cls is not None:
            self.show_topic(cls.title or name)


def about_html() -> str:
    return (f"<h3>gdstudio {html.escape(__version__)}</h3>"
            "<p>See optimization: gradient descent and its relatives moving across loss surfaces, step by step. "
            f"{len(OPTIMIZERS)} optimizers, {len(objective_names())} built-in surfaces and your own functions.</p>"
            "<p>Built with Python, NumPy, SymPy, Qt (PySide6) and pyqtgraph.</p>"
            f"<p>Licence: {LICENCE}. Free to use, study, change and share.</p>")


def show_about(parent: QWidget | None) -> QMessageBox:
    box = QMessageBox(parent)
    box.setObjectName("about_box")
    box.setWindowTitle("About gdstudio")
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setText(about_html())
    if parent is not None and not parent.windowIcon().isNull():
        box.setIconPixmap(parent.windowIcon().pixmap(64, 64))
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.open()
    return box


__all__ = ["HelpDialog", "about_html", "basins_html", "docstring_html", "landscapes_html", "models_html",
           "optimizer_html", "show_about"]
