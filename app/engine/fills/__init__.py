"""Hole fills: the pixels of a hole are rebuilt from the pixels around it.

One family of fill per module, each a :class:`~app.engine.fills.base.Fill` subclass with its
parameters as fields, and all of them deterministic:

- :mod:`.direct`: one call of OpenCV's ``cv2.inpaint`` (Telea's fast marching method, or the
  Navier-Stokes method) at full resolution.
- :mod:`.pyramid`: the same OpenCV call at 1/8 resolution, then at each finer level only a
  ring along the hole's border is filled again: a smooth, structure-level fill, fast.
- :mod:`.membrane`: push-pull interpolation, the smoothest fill, for skies, walls and
  gradients.
- :mod:`.patchmatch`: PatchMatch, the default: the hole rebuilt from patches of its
  surroundings, so texture continues into it. Its work (:mod:`.refine`, on the
  nearest-neighbour fields of :mod:`.nnf`) runs in a child process that a cancelled request
  kills at once.

A fill runs in *stages*: real fills at coarse scales (1/8, 1/4, 1/2, as asked), which the
engine streams as partial images, and last the full-resolution fill. The base class crops a
window around the hole, runs the family's stages on it and composites each result back
through the hole, so pixels outside the hole are never touched.

To add a fill, write one module here with a frozen dataclass that subclasses ``Fill`` and
implements ``window_stages`` (and ``context`` or ``margin`` if it reads further than 64 px
around the hole; ``window_stages_until`` if one of its stages is long enough that it should
stop within it when the request is given up), then add one row to ``VARIANTS`` in
``app/engine/variants.py`` and the same row to the README's variant table (a test compares
the two).
"""
