"""Scale hyperprior codec (Balle, Minnen, Singh, Hwang, Johnston, "Variational image compression with
a scale hyperprior", ICLR 2018), CompressAI's ``ScaleHyperprior`` rebuilt on torch + constriction
(CompressAI itself cannot be installed beside Sionna).

Files, one concept each:

- ``gdn.py``: GDN / IGDN with non-negative reparametrised beta and gamma.
- ``entropy_bottleneck.py``: the factorized prior of the hyper-latent z and its coder.
- ``gaussian_conditional.py``: the Gaussian conditional of the latent y and its coder.
- ``gain.py``: gain units (Cui et al., CVPR 2021), the variable-rate model's per-level channel gains.
- ``model.py``: the transforms g_a, g_s, h_a, h_s; compress / decompress (with a quantisation step of
  y, and a rate level for a model with gain units); weights files.
- ``bitstream.py``: the stream format (header with the model and its rate, z stream, y stream).
- ``train.py``: rate-distortion training (optionally over a range of quantisation steps, or over a
  set of lambdas for the variable-rate model), bf16 autocast, resumable.
- ``codec.py``: :class:`HyperpriorCodec`, registered as ``hyperprior``: the rate points ``q1``-``q3``
  or the variable-rate model (``rate: variable``), rate-controlled by bisection over its knob.
- ``residual_codec.py``: :class:`ResidualHyperpriorCodec`, registered as ``hyperprior_residual``: one
  model trained on the semantic GAN's residual images, its quantisation step the rate knob (the
  enhancement layer's learned coder).
- ``weights/``: the shipped fp16 weights, one file per rate point, ``hyperprior_residual.pt`` and
  ``hyperprior_variable.pt`` (the variable-rate model, 9 levels, N = 128; first trained in session
  18), with the slim checkpoints that resume their training (``.ckpt``).
"""

__all__: list[str] = []
