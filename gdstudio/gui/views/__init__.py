"""The window's views: each draws a model and computes no mathematics; each runs alone
(``python -m gdstudio.gui.views.<name>``)."""
