"""The window: the only package that imports PySide6 and pyqtgraph.

``app.main(argv)`` opens it. Data flows one way: the side panel builds an immutable
:class:`~gdstudio.core.runs.RunConfig`; the worker thread (``worker.Engine``) iterates the core's
:class:`~gdstudio.core.runs.Run` and hands every step, in batches, to the :class:`~gdstudio.gui.run_model.RunModel`;
the views (``gui/views``) draw the model.
"""
