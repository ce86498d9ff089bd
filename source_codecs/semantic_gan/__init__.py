"""Semantic GAN codec (Huang et al., "Deep Learning-Based Image Semantic Coding for Semantic
Communications", IEEE GLOBECOM 2021): the label map plus a very compact latent, regenerated at the
receiver by a SPADE generator.

Files, one concept each:

- ``semantic_map.py``: one-hot maps and reduced-resolution maps.
- ``range_coding.py``, ``label_coding.py``, ``latent_coding.py``: entropy coding on constriction.
- ``bitstream.py``: the stream format (header, map packet, latent packets).
- ``quantizer.py``, ``encoder.py``, ``normalization.py``, ``architecture.py``, ``generator.py``,
  ``model.py``: the networks.
- ``discriminator.py``, ``loss.py``, ``perceptual.py``, ``dataset.py``, ``train.py``: training.
- ``codec.py``: :class:`SemanticGANCodec`, registered as ``semantic_gan``.
- ``weights/``: the shipped fp16 weights, one file per rate point.
"""

__all__: list[str] = []
