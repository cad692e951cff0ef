"""nidb — the National Insurance Database of Vietnam (Cơ sở dữ liệu quốc gia về Bảo hiểm)."""

__version__ = "0.1.0"
