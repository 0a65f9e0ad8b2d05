"""Rendering: texts and keyboards a feature sends, built from translations."""
