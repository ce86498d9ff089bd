"""Scale hyperprior codec (Balle, Minnen, Singh, Hwang, Johnston, "Variational image compression with
a scale hyperprior", ICLR 2018), CompressAI's ``ScaleHyperprior`` rebuilt on torch + constriction
(CompressAI itself cannot be installed beside Sionna).

Files, one concept each:

- ``gdn.py``: GDN / IGDN with non-negative reparametrised beta and gamma.
- ``entropy_bottleneck.py``: the factorized prior of the hyper-latent z and its coder.
- ``gaussian_conditional.py``: the Gaussian conditional of the latent y and its coder.
- ``model.py``: the transforms g_a, g_s, h_a, h_s; compress / decompress (with a quantisation step of
  y); weights files.
- ``bitstream.py``: the stream format (header, z stream, y stream).
- ``train.py``: rate-distortion training (optionally over a range of quantisation steps), resumable.
- ``codec.py``: :class:`HyperpriorCodec`, registered as ``hyperprior``.
- ``residual_codec.py``: :class:`ResidualHyperpriorCodec`, registered as ``hyperprior_residual``: one
  model trained on the semantic GAN's residual images, its quantisation step the rate knob (the
  enhancement layer's learned coder).
- ``weights/``: the shipped fp16 weights, one file per rate point and ``hyperprior_residual.pt``.
"""

__all__: list[str] = []
