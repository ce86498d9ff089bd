"""The classical image codecs (JPEG, WebP, JPEG 2000, AVIF, JPEG XL, BPG/HEVC, VVC), the uncompressed
reference, and the stream and container machinery they share."""
