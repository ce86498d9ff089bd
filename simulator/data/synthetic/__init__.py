"""Procedural urban street scenes with pixel-exact Cityscapes trainId labels.

Files: ``camera`` (pinhole projection), ``layout`` (the random street), ``textures`` (noise),
``canvas`` and ``shapes`` (rasterisation that writes pixels and labels together), ``painter``
(world-space shapes), ``ground`` / ``facades`` (the street itself), ``vehicles``, ``people``,
``furniture``, ``vegetation`` (objects), ``population`` (where objects stand), ``categorical``
(weighted random choices), ``scenes`` (the source).
"""

from simulator.data.synthetic.scenes import SPLIT_STREAMS, SyntheticScenes, render_scene

__all__ = ["SPLIT_STREAMS", "SyntheticScenes", "render_scene"]
