"""Deep joint source-channel coding (Bourtsoulatze et al. 2019), SNR-adaptive as in ADJSCC (Xu et al.
2021): images map straight to complex channel symbols and back, without bits.

The codec (:mod:`source_codecs.deepjscc.codec`, registered as ``deepjscc``) loads the shipped weights
``weights/deepjscc.pt``; :mod:`source_codecs.deepjscc.train` trains them.
"""
