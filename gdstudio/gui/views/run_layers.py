"""One layer of drawing items per run, kept in step with a :class:`~gdstudio.gui.run_model.RunModel`.

The 3D surface, the contour map and the loss chart all draw every run of the model the same way: a run
added gets its items, new steps redraw them, a hidden run hides them, a removed run takes them away. This
mixin holds that bookkeeping once; a view supplies what its items are:

* ``_new_layer(entry)``: create and add the run's items, return them (the "layer");
* ``_redraw(entry)``: update the run's items from its steps (one ``setData`` per item);
* ``_drop_layer(layer)`` / ``_show_layer(layer, visible)``: by default ``layer.remove()`` and
  ``layer.set_visible(visible)``.

Layers are kept in ``self._runs`` (run id → layer), which the view creates in its ``__init__``.
"""

from __future__ import annotations

from typing import Any

from gdstudio.gui.run_model import RunEntry, RunModel


class RunLayers:
    model: RunModel | None
    _runs: dict[int, Any]

    def set_model(self, model: RunModel) -> None:
        self.model = model
        model.sig_added.connect(self._on_added)
        model.sig_removed.connect(self._on_removed)
        model.sig_cleared.connect(self._on_cleared)
        model.sig_data.connect(self._on_data)
        model.sig_visibility.connect(self._on_visibility)
        for e in model:
            self._on_added(e.run_id)

    # --- what a view supplies ------------------------------------------------------------------------
    def _new_layer(self, e: RunEntry) -> Any:
        raise NotImplementedError

    def _redraw(self, e: RunEntry) -> None:
        raise NotImplementedError

    def _drop_layer(self, layer: Any) -> None:
        layer.remove()

    def _show_layer(self, layer: Any, visible: bool) -> None:
        layer.set_visible(visible)

    # --- model events --------------------------------------------------------------------------------
    def _on_added(self, run_id: int) -> None:
        e = self.model.get(run_id)
        if e is None or run_id in self._runs:
            return
        self._runs[run_id] = self._new_layer(e)
        self._redraw(e)

    def _on_removed(self, run_id: int) -> None:
        layer = self._runs.pop(run_id, None)
        if layer is not None:
            self._drop_layer(layer)

    def _on_cleared(self) -> None:
        for rid in list(self._runs):
            self._on_removed(rid)

    def _on_visibility(self, run_id: int) -> None:
        e = self.model.get(run_id)
        if e is not None and run_id in self._runs:
            self._show_layer(self._runs[run_id], e.visible)

    def _on_data(self, run_ids: list) -> None:
        for rid in run_ids:
            e = self.model.get(rid)
            if e is not None:
                self._redraw(e)
