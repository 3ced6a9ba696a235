"""Commands to vehicles: accepting them (``service``), carrying each to its end
(``commander``), and the pure rules both rely on. ``docs/commands.md`` is the design note.
"""
