"""The exchange commands: `nidb partner`, `nidb token` and `nidb keys`.

Mounted by nidb.cli (`mount`). Thin: they parse, call nidb.exchange, print, and set exit codes
(0 done; 1 the database failed; 2 bad input named in the message). The store is imported inside
the commands, so that `nidb --help` stays fast.
"""

from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from nidb.exchange.catalogue import INFO_GROUPS, PARTNER_KINDS, PURPOSES, ROLES, SERVICES
from nidb.terminal import err, fail, handled, out

if TYPE_CHECKING:
    from nidb.exchange.partners import PartnerError

__all__ = ["keys_app", "mount", "partner_app", "partner_key_app", "token_app"]

partner_app = typer.Typer(
    help="Đối tác kết nối và quyền khai thác (partner systems and their grants).",
    no_args_is_help=True,
)
token_app = typer.Typer(help="Mã truy cập API của cán bộ (staff API tokens).", no_args_is_help=True)
partner_key_app = typer.Typer(
    help="Thay khóa của đối tác (rotate a partner's public keys).", no_args_is_help=True
)
partner_app.add_typer(partner_key_app, name="key")
keys_app = typer.Typer(
    help="Khóa ký của CSDL bảo hiểm (nidb's signing key).", invoke_without_command=True
)


def mount(app: typer.Typer) -> None:
    """Add `nidb keys`, `nidb partner` and `nidb token` to the main command."""
    app.add_typer(keys_app, name="keys")
    app.add_typer(partner_app, name="partner")
    app.add_typer(token_app, name="token")


def _partner_error(error: "PartnerError") -> typer.Exit:
    return fail(f"{error.field}: {error.message_vi} ({error.message_en})", 2)


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
    from nidb.exchange.partners import PartnerError, add_partner
    from nidb.settings import actor_name
    from nidb.store.db import open_engine

    with handled():
        try:
            partner = add_partner(
                open_engine(), code, name, kind, public_key, actor_name(), rate_limit, webhook
            )
        except PartnerError as error:
            raise _partner_error(error) from None
    out.print(f"Đã đăng ký {partner.code} (kid {next(iter(partner.keys))}).")


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
    from nidb.exchange.partners import PartnerError, add_grant
    from nidb.settings import actor_name
    from nidb.store.db import open_engine

    try:
        start = date.fromisoformat(valid_from) if valid_from else None
        end = date.fromisoformat(valid_to) if valid_to else None
    except ValueError as error:
        raise fail(f"ngày không hợp lệ (invalid date): {error}") from None
    with handled():
        try:
            grant_id = add_grant(
                open_engine(), code, service, purpose, groups, legal_basis, actor_name(), start, end
            )
        except PartnerError as error:
            raise _partner_error(error) from None
    out.print(f"Đã cấp quyền số {grant_id} cho {code}: {service} / {purpose} / {groups}.")


@partner_app.command("revoke")
def partner_revoke(
    grant_id: Annotated[int, typer.Argument(help="Số của quyền (xem nidb partner list)")],
    reason: Annotated[str, typer.Option("--reason", help="Lý do thu hồi")],
) -> None:
    """Thu hồi một quyền (revoke a grant)."""
    from nidb.exchange.partners import PartnerError, revoke_grant
    from nidb.settings import actor_name
    from nidb.store.db import open_engine

    with handled():
        try:
            revoke_grant(open_engine(), grant_id, actor_name(), reason)
        except PartnerError as error:
            raise _partner_error(error) from None
    out.print(f"Đã thu hồi quyền số {grant_id}.")


@partner_key_app.command("add")
def partner_key_add(
    code: Annotated[str, typer.Argument(help="Mã đối tác")],
    public_key: Annotated[
        str, typer.Option("--public-key", help="Khóa công khai Ed25519 mới, base64url")
    ],
) -> None:
    """Thêm một khóa đang dùng cho đối tác; khóa cũ vẫn dùng được đến khi bỏ (add a live key:
    the old one keeps verifying until it is retired)."""
    from nidb.exchange.partners import PartnerError, add_key
    from nidb.settings import actor_name
    from nidb.store.db import open_engine

    with handled():
        try:
            kid = add_key(open_engine(), code, public_key, actor_name())
        except PartnerError as error:
            raise _partner_error(error) from None
    out.print(f"Đối tác {code}: thêm khóa {kid}.", highlight=False)


@partner_key_app.command("retire")
def partner_key_retire(
    code: Annotated[str, typer.Argument(help="Mã đối tác")],
    kid: Annotated[str, typer.Argument(help="Mã khóa (kid, xem nidb partner list)")],
    reason: Annotated[str, typer.Option("--reason", help="Lý do")] = "thay khóa",
) -> None:
    """Bỏ một khóa của đối tác: chữ ký bằng khóa đó bị từ chối (retire a key: messages signed
    with it are refused, E_BAD_SIGNATURE, within seconds on every server)."""
    from nidb.exchange.partners import PartnerError, retire_key
    from nidb.settings import actor_name
    from nidb.store.db import open_engine

    with handled():
        try:
            retire_key(open_engine(), code, kid, actor_name(), reason)
        except PartnerError as error:
            raise _partner_error(error) from None
    out.print(f"Đối tác {code}: đã bỏ khóa {kid}.", highlight=False)


@partner_app.command("list")
def partner_list() -> None:
    """Danh sách đối tác và quyền (partners and their grants)."""
    from nidb.exchange.partners import load_partners
    from nidb.store.db import open_engine

    with handled():
        engine = open_engine()
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
    out.print(table)
    keys = Table("Đối tác", "Khóa đang dùng (kid)")
    for partner in partners.values():
        for kid in sorted(partner.keys):
            keys.add_row(partner.code, kid)
    out.print(keys)


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Argument(help="Tên cán bộ hoặc công cụ")],
    role: Annotated[str, typer.Option("--role", help=", ".join(ROLES))],
    days: Annotated[int, typer.Option("--days", help="Số ngày hiệu lực")] = 90,
    central: Annotated[
        bool, typer.Option("--central", help="Phạm vi toàn quốc (central: every province)")
    ] = False,
    province_code: Annotated[
        str | None, typer.Option("--province", help="Mã tỉnh của phạm vi (province code)")
    ] = None,
    district_code: Annotated[
        str | None, typer.Option("--district", help="Mã huyện của phạm vi (district code)")
    ] = None,
) -> None:
    """Tạo mã truy cập theo phạm vi như tài khoản cán bộ; mã chỉ hiện một lần (create a token
    covering an area, as a staff account does; it is shown once)."""
    from nidb.exchange.tokens import create_token
    from nidb.store.db import open_engine

    level = "central" if central else "district" if district_code else "province"
    with handled():
        try:
            token = create_token(
                open_engine(),
                name,
                role,
                days,
                scope_level=level,
                province_code=province_code,
                district_code=district_code,
            )
        except ValueError as error:
            raise fail(str(error)) from None
    err.print(
        "Mã truy cập dưới đây chỉ hiện MỘT LẦN: hãy lưu ngay vào nơi an toàn; nidb chỉ giữ "
        "bản băm (the token is shown once; nidb keeps only its hash)."
    )
    out.print(token, highlight=False)


@token_app.command("revoke")
def token_revoke(name: Annotated[str, typer.Argument(help="Tên cán bộ hoặc công cụ")]) -> None:
    """Thu hồi mọi mã của một cán bộ (revoke every token of a name)."""
    from nidb.exchange.tokens import revoke_tokens
    from nidb.store.db import open_engine

    with handled():
        count = revoke_tokens(open_engine(), name)
    out.print(f"Đã thu hồi {count} mã.")


@keys_app.callback()
def keys_show(context: typer.Context) -> None:
    """In khóa công khai của CSDL bảo hiểm và các khóa trước còn công bố (print nidb's public
    signing key, and the previous ones still published at /keys)."""
    if context.invoked_subcommand is not None:
        return
    from nidb.exchange.signing import published_keys
    from nidb.settings import signing_key_path

    try:
        published = published_keys(signing_key_path())
    except ValueError as error:
        raise fail(f"tệp khóa không hợp lệ (bad key file): {error}") from None
    key = published.current
    out.print(
        f"member: VN/GOV/BHXH/CSDLBH\nkid: {key.kid}\npublic_key: {key.public_b64}",
        highlight=False,
    )
    for old in published.previous:
        out.print(
            f"previous: {old.kid} (thôi dùng lúc {old.retired_at:%Y-%m-%d %H:%M} UTC)",
            highlight=False,
        )


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Tạo khóa ký mới; khóa cũ vẫn công bố tại /keys trong thời gian chuyển tiếp (generate a
    new signing key; the old public key stays published for NIDB_SIGNING_KEY_GRACE_DAYS)."""
    from nidb.exchange.signing import rotate_signing_key
    from nidb.protocol.keys import KeyChanged
    from nidb.settings import actor_name, get_settings, signing_key_path
    from nidb.store.db import open_engine

    with handled():
        try:
            old, new = rotate_signing_key(open_engine(), signing_key_path(), actor_name())
        except KeyChanged:
            raise fail(
                "khóa vừa được thay bởi lệnh khác; hãy xem nidb keys "
                "(another rotation ran at the same time)"
            ) from None
        except (OSError, ValueError) as error:
            raise fail(f"không thay được khóa (cannot rotate the key): {error}") from None
    settings = get_settings()
    days, every = settings.signing_key_grace_days, settings.signing_key_check_seconds
    out.print(f"Khóa mới: {new}\nKhóa cũ {old} vẫn công bố tại /keys {days} ngày.", highlight=False)
    err.print(
        f"nidb serve và nidb outbox dispatch đang chạy sẽ ký bằng khóa mới trong vòng {every:g} "
        f"giây, không cần khởi động lại (running servers sign with the new key within {every:g} s, "
        "no restart)."
    )
