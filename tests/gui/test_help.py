"""Help (F1) and About: generated from the core's registry, every optimizer and formula word listed."""

from __future__ import annotations

import re

import pytest
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication, QMessageBox

from gdstudio import __version__
from gdstudio.core import formula as F
from gdstudio.core.optimizers import OPTIMIZERS
from gdstudio.gui.help import HelpDialog, docstring_html, latex_to_text, optimizer_html

pytestmark = pytest.mark.gui


def plain(html_text: str) -> str:
    import html

    return html.unescape(re.sub(r"<[^>]+>", "", html_text))


def test_help_has_a_page_per_optimizer_from_the_registry(qtbot):
    d = HelpDialog()
    qtbot.addWidget(d)
    topics = [d.topics.item(i).text() for i in range(d.topics.count())]
    for cls in OPTIMIZERS.values():
        assert cls.title in topics
        page = plain(d.pages[cls.title])
        assert cls.rule in page
        for h in cls.hyperparams:
            assert h.name in page and h.range_text() in page
        if cls.reference:
            assert cls.reference in page
        first = (cls.__doc__ or "").strip().split("\n")[0]
        assert plain(docstring_html(first)).strip()[:30] in page  # the docstring itself, not a copy
        assert ">>>" not in page  # doctests are left out
    page = plain(d.pages["Your own function"])
    for w in F.HELP:
        assert w.example in page and w.help in page


def test_every_formula_block_is_readable_text():
    for name in OPTIMIZERS:
        assert not re.findall(r"\\[A-Za-z]+", optimizer_html(name)), name  # no LaTeX command left over
    assert latex_to_text(r"x_{k+1} = x_k - \varepsilon \nabla f(x_k)") == "xₖ₊₁ = xₖ - ε ∇ f(xₖ)"
    assert latex_to_text(r"H_{k}^{-1} y^\top \varphi_k") == "Hₖ⁻¹ yᵀ φₖ"
    assert latex_to_text(r"\min_{t \ge 0}") == "min_(t ≥ 0)"  # no Unicode subscript for ≥: readable anyway
    for name in OPTIMIZERS:  # no raw b_{k+1} anywhere
        assert not re.findall(r"[_^]\{", plain(optimizer_html(name))), name
    assert latex_to_text(r"\frac{m}{\sqrt{v} + \epsilon}") == "(m)/(√(v) + ϵ)"


def test_f1_opens_help_on_the_current_optimizer(window, qtbot):
    assert window.actions.help.shortcut() == QKeySequence(QKeySequence.StandardKey.HelpContents)
    window.actions.help.trigger()
    d = window._help
    assert d is not None and d.isVisible()
    cls = OPTIMIZERS[window.side_panel.optimizer_name()]
    assert d.topics.currentItem().text() == cls.title
    assert cls.rule in d.browser.toPlainText()
    d.close()


def test_getting_started_lists_every_shortcut_of_the_window(window, qtbot):
    window.actions.help.trigger()
    page = plain(window._help.pages["Getting started"])
    for key in ("F5", "Space", "F10", "Ctrl+R", "F6", "F7", "Ctrl+O", "Ctrl+S", "Ctrl+E", "Ctrl+L", "Home",
                "Ctrl+Q", "F1"):
        assert key in page, key
    assert "Learning-rate sweep" in page and "Reset camera" in page
    window._help.close()


def test_about_box(window, qtbot):
    window.actions.about.trigger()
    box = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible())
    text = plain(box.text())
    assert __version__ in text and "Licence: MIT" in text and "http" not in box.text()
    box.close()


def test_menus_and_shortcuts(window):
    a = window.actions
    keys = {
        a.open_session: "Ctrl+O", a.save_session: "Ctrl+S", a.export_csv: "Ctrl+E", a.quit: "Ctrl+Q",
        a.run: "F5", a.pause: "Space", a.step: "F10", a.reset: "Ctrl+R", a.help: "F1",
    }
    for act, key in keys.items():
        assert act.shortcut().toString() == key, act.text()
    menus = {m.title().replace("&", ""): [x.text().replace("&", "") for x in m.actions()]
             for m in (act.menu() for act in window.menuBar().actions())}
    assert {"Open session…", "Save session…", "Export trajectory…", "Export image", "Quit"} <= set(menus["File"])
    assert {"Run", "Pause", "Step", "Reset"} <= set(menus["Run"])
    assert {"gdstudio Help", "About gdstudio"} <= set(menus["Help"])


def test_models_landscapes_and_basins_have_pages_from_the_cores_docstrings(qtbot):
    from gdstudio.core import basins, data, landscape, models

    d = HelpDialog()
    qtbot.addWidget(d)
    for topic, modules in (("Models and datasets", (models, data)), ("Loss landscapes", (landscape,)),
                           ("Basins of attraction", (basins,))):
        page = d.pages[topic]
        for mod in modules:
            assert plain(docstring_html(mod.__doc__.split("\n")[0]))[:40] in plain(page)
        assert not re.findall(r"\\[A-Za-z]+", plain(page)), topic  # no LaTeX command left over
        assert ">>>" not in page
    # the docstrings' aligned definition lists become tables: one row per model, per direction, per source
    assert plain(d.pages["Models and datasets"]).count("CS231n multiclass hinge loss") == 1
    assert "<td valign='top'><b><code>svm</code></b></td>" in d.pages["Models and datasets"]
    assert "<td valign='top'><b><code>pca</code></b></td>" in d.pages["Loss landscapes"]
    assert "<b>a folder or one IDX file</b>" in d.pages["Models and datasets"]


def test_docstring_definition_lists_bullets_and_sentences():
    doc = """Intro line.

    Choices:

    ``a``     the first
              continued
    two words  the second

    - one
      more
    - two

    A sentence.  Two spaces after a full stop stay a paragraph.
    """
    h = docstring_html(doc)
    assert "<tr><td valign='top'><b><code>a</code></b></td><td>the first continued</td></tr>" in h
    assert "<tr><td valign='top'><b>two words</b></td><td>the second</td></tr>" in h
    assert "<ul><li>one more</li><li>two</li></ul>" in h
    assert "<p>A sentence.  Two spaces after a full stop stay a paragraph.</p>" in h
    assert latex_to_text(r"\frac1n\sum_i \partial s_i \ne 0") == "1/n Σᵢ ∂ sᵢ ≠ 0"
    assert latex_to_text(r"\#\{j : m > 0\}") == "#{j : m > 0}"


def test_f1_in_model_mode_opens_the_models_page(window, qtbot):
    from PySide6.QtCore import Qt

    mm = window.model_mode
    qtbot.mouseClick(mm.model_radio, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: mm.active, timeout=10000)
    window.actions.help.trigger()
    d = window._help
    assert d.isVisible() and d.topics.currentItem().text() == "Models and datasets"
    assert "multiclass hinge loss" in d.browser.toPlainText()
    d.close()
