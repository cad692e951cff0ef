"""The I-VAN provider stand-in: holds employers' signing keys and forwards their signed
declarations to nidb over HTTP (``nidb sim ivan``)."""
