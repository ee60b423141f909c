"""Renderers: each turns audit results into a string or a rich object. None of them prints."""
