"""The exchange commands: `nidb partner`, `nidb token`, `nidb audit`, `nidb keys`, `nidb serve`.

Mounted by nidb/cli.py. Thin: they parse, call nidb.exchange, print, and set exit codes
(0 done; 1 the database failed or the audit chain is broken; 2 bad input named in the message).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Annotated

import typer
from rich.table import Table

from nidb.accesslog import chain_head, format_heads, parse_heads, verify_chain
from nidb.exchange.catalogue import INFO_GROUPS, PARTNER_KINDS, PURPOSES, SERVICES
from nidb.exchange.partners import PartnerError, add_grant, add_partner, load_partners, revoke_grant
from nidb.exchange.tokens import ROLES, create_token, revoke_tokens
from nidb.settings import actor_name

partner_app = typer.Typer(
    help="Đối tác kết nối và quyền khai thác (partner systems and their grants).",
    no_args_is_help=True,
)
token_app = typer.Typer(help="Mã truy cập API của cán bộ (staff API tokens).", no_args_is_help=True)
audit_app = typer.Typer(
    help="Nhật ký truy cập có chuỗi băm (the hash-chained access log).", no_args_is_help=True
)


def _cli() -> ModuleType:
    from nidb import cli

    return cli


def _partner_error(error: PartnerError) -> typer.Exit:
    from nidb.cli import _fail

    return _fail(f"{error.field}: {error.message_vi} ({error.message_en})", 2)


@partner_app.command("add")
def partner_add(
    code: Annotated[
        str, typer.Argument(help="VN/GOV/BYT/BV-01001 (quốc gia/loại/thành viên/hệ thống)")
    ],
    name: Annotated[str, typer.Option("--name", help="Tên đối tác")],
    kind: Annotated[str, typer.Option("--kind", help=", ".join(PARTNER_KINDS))],
    public_key: Annotated[
        str, typer.Option("--public-key", help="Khóa công khai Ed25519, base64url")
    ],
    rate_limit: Annotated[
        int, typer.Option("--rate-limit", help="Số yêu cầu tối đa mỗi giây")
    ] = 100,
    webhook: Annotated[str | None, typer.Option("--webhook", help="Địa chỉ nhận sự kiện")] = None,
) -> None:
    """Đăng ký đối tác với khóa công khai (register a partner system and its public key)."""
    cli = _cli()
    with cli._handled():
        try:
            partner = add_partner(
                cli._engine(), code, name, kind, public_key, actor_name(), rate_limit, webhook
            )
        except PartnerError as error:
            raise _partner_error(error) from None
    cli.out.print(f"Đã đăng ký {partner.code} (kid {next(iter(partner.keys))}).")


@partner_app.command("grant")
def partner_grant(
    code: Annotated[str, typer.Argument(help="Mã đối tác")],
    service: Annotated[str, typer.Option("--service", help=", ".join(SERVICES))],
    purpose: Annotated[str, typer.Option("--purpose", help=", ".join(PURPOSES))],
    groups: Annotated[
        str,
        typer.Option(
            "--groups", help="Nhóm thông tin, ví dụ a,dd (" + ", ".join(INFO_GROUPS) + ")"
        ),
    ],
    legal_basis: Annotated[str, typer.Option("--legal-basis", help="Căn cứ pháp lý")],
    valid_from: Annotated[
        str | None, typer.Option("--from", help="YYYY-MM-DD (mặc định hôm nay)")
    ] = None,
    valid_to: Annotated[str | None, typer.Option("--to", help="YYYY-MM-DD")] = None,
) -> None:
    """Cấp quyền dùng dịch vụ cho một mục đích (grant a service for a purpose over groups)."""
    cli = _cli()
    try:
        start = date.fromisoformat(valid_from) if valid_from else None
        end = date.fromisoformat(valid_to) if valid_to else None
    except ValueError as error:
        raise cli._fail(f"ngày không hợp lệ (invalid date): {error}") from None
    with cli._handled():
        try:
            grant_id = add_grant(
                cli._engine(), code, service, purpose, groups, legal_basis, actor_name(), start, end
            )
        except PartnerError as error:
            raise _partner_error(error) from None
    cli.out.print(f"Đã cấp quyền số {grant_id} cho {code}: {service} / {purpose} / {groups}.")


@partner_app.command("revoke")
def partner_revoke(
    grant_id: Annotated[int, typer.Argument(help="Số của quyền (xem nidb partner list)")],
    reason: Annotated[str, typer.Option("--reason", help="Lý do thu hồi")],
) -> None:
    """Thu hồi một quyền (revoke a grant)."""
    cli = _cli()
    with cli._handled():
        try:
            revoke_grant(cli._engine(), grant_id, actor_name(), reason)
        except PartnerError as error:
            raise _partner_error(error) from None
    cli.out.print(f"Đã thu hồi quyền số {grant_id}.")


@partner_app.command("list")
def partner_list() -> None:
    """Danh sách đối tác và quyền (partners and their grants)."""
    cli = _cli()
    with cli._handled():
        engine = cli._engine()
        with engine.connect() as conn:
            partners = load_partners(conn)
    table = Table(
        "Đối tác", "Tên", "Loại", "Giới hạn/s", "Quyền", "Dịch vụ", "Mục đích", "Nhóm", "Hiệu lực"
    )
    for partner in partners.values():
        status = " (tạm dừng)" if partner.suspended else ""
        if not partner.grants:
            table.add_row(
                partner.code + status,
                partner.name,
                partner.kind,
                str(partner.rate_limit),
                "",
                "",
                "",
                "",
                "",
            )
        for grant in partner.grants:
            validity = f"{grant.valid_from}..{grant.valid_to or ''}" + (
                " thu hồi" if grant.revoked else ""
            )
            table.add_row(
                partner.code + status,
                partner.name,
                partner.kind,
                str(partner.rate_limit),
                str(grant.id),
                grant.service,
                grant.purpose,
                ",".join(grant.groups),
                validity,
            )
    cli.out.print(table)


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Argument(help="Tên cán bộ hoặc công cụ")],
    role: Annotated[str, typer.Option("--role", help=", ".join(ROLES))],
    days: Annotated[int, typer.Option("--days", help="Số ngày hiệu lực")] = 90,
) -> None:
    """Tạo mã truy cập; mã chỉ hiện một lần (create a token; it is shown once)."""
    cli = _cli()
    with cli._handled():
        try:
            token = create_token(cli._engine(), name, role, days)
        except ValueError as error:
            raise cli._fail(str(error)) from None
    cli.out.print(token, highlight=False)


@token_app.command("revoke")
def token_revoke(name: Annotated[str, typer.Argument(help="Tên cán bộ hoặc công cụ")]) -> None:
    """Thu hồi mọi mã của một cán bộ (revoke every token of a name)."""
    cli = _cli()
    with cli._handled():
        count = revoke_tokens(cli._engine(), name)
    cli.out.print(f"Đã thu hồi {count} mã.")


@audit_app.command("verify")
def audit_verify(
    head: Annotated[
        str | None,
        typer.Option("--head", help="LANE:SEQ:HASH,… đã lưu ngoài CSDL (from `nidb audit head`)"),
    ] = None,
) -> None:
    """Kiểm tra toàn bộ chuỗi băm của nhật ký (check every hash chain of the log)."""
    cli = _cli()
    anchors = None
    if head:
        try:
            anchors = parse_heads(head)
        except ValueError as error:
            raise cli._fail(f"--head phải có dạng LANE:SEQ:HASH,… ({error})") from None
    with cli._handled():
        report = verify_chain(cli._engine(), anchors)
    if report.intact:
        cli.out.print(
            f"Nhật ký nguyên vẹn (intact): {report.entries:,} bản ghi trong {len(report.heads)} "
            f"chuỗi; mốc cuối {format_heads(report.heads)}",
            highlight=False,
        )
        return
    table = Table("lane", "seq", "lỗi (problem)", "mô tả")
    for problem in report.problems:
        table.add_row(str(problem.lane), str(problem.seq), problem.kind, problem.message_vi)
    cli.err.print(f"[bold red]Nhật ký đã bị can thiệp (tampered):[/] {len(report.problems)} vấn đề")
    cli.err.print(table)
    raise typer.Exit(1)


@audit_app.command("head")
def audit_head() -> None:
    """In mốc cuối của mỗi chuỗi để lưu ngoài CSDL (print the chain heads to keep elsewhere)."""
    cli = _cli()
    with cli._handled():
        heads = chain_head(cli._engine())
    cli.out.print(format_heads(heads), highlight=False)


def keys_show() -> None:
    """In khóa công khai của CSDL bảo hiểm (print nidb's public signing key)."""
    from nidb.api.app import signing_key_path
    from nidb.protocol.keys import SigningKey

    key = SigningKey.load_or_create(signing_key_path())
    _cli().out.print(
        f"member: VN/GOV/BHXH/CSDLBH\nkid: {key.kid}\npublic_key: {key.public_b64}", highlight=False
    )


def serve_command(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    workers: Annotated[int, typer.Option("--workers", help="Số tiến trình")] = 1,
    key_file: Annotated[Path | None, typer.Option("--key-file", help="Khóa ký (PEM)")] = None,
) -> None:
    """Chạy dịch vụ API: chia sẻ dữ liệu với đối tác và API cán bộ (run the HTTP API)."""
    import os

    import uvicorn

    cli = _cli()
    with cli._handled():
        cli._engine()  # migrate once, before the workers start
    if key_file is not None:
        os.environ["NIDB_SIGNING_KEY_FILE"] = str(key_file)
    cli.err.print(f"nidb serve: http://{host}:{port}/docs ({workers} tiến trình)")
    uvicorn.run(
        "nidb.api.app:app_from_settings",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,  # requests are in the access log; no personal data in server logs
    )
