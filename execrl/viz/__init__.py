"""Renderings for people: token rewards in the terminal and as HTML."""
