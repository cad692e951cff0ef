"""Retention (thời hạn lưu trữ): how long nidb keeps what is not the register itself, and
removing what is past its period (`nidb retention show|apply`).

Public surface: `KINDS` (the catalogue, `nidb.retention.kinds`), `overview` and `apply`
(`nidb.retention.runner`). The register itself (people, codes, periods, contributions, cards,
benefits, claims) and the audit log are kept without limit and are not touched here.
"""
