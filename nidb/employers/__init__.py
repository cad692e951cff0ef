"""The employer channel (đơn vị sử dụng lao động): accounts and keys, signed submissions,
declarations (D02-LT / TK1-TS) and what they produce.

Public surface: ``accounts`` (enrol, keys, look-ups), ``gate`` (admit a signed submission),
``declarations`` (check and apply a declaration), ``codes`` (issue a BHXH code), ``errors``.
"""
