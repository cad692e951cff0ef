"""The employer commands: `nidb employer ...` (enrol, keys, sign-in lockout, declarations).

Mounted by nidb.cli (`mount`). Thin: they parse, call nidb.employers, print, and set exit codes
(0 done; 1 the database failed; 2 bad input named in the message). Heavy modules are imported
inside the commands, so that `nidb --help` stays fast.
"""

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from nidb.terminal import fail, handled, out

if TYPE_CHECKING:
    from nidb.employers.errors import EmployerError

__all__ = ["employer_app", "mount"]

employer_app = typer.Typer(
    help="Đơn vị sử dụng lao động: đăng ký giao dịch, khoá ký, hồ sơ khai báo (employers).",
    no_args_is_help=True,
)


def mount(app: typer.Typer) -> None:
    """Add `nidb employer` to the main command."""
    app.add_typer(employer_app, name="employer")


def _refused(error: "EmployerError") -> typer.Exit:
    return fail(f"{error.field} = {error.value}: {error.message_vi} ({error.message_en})", 2)


@employer_app.command("enrol")
def enrol_command(
    code: Annotated[str, typer.Argument(help="Mã đơn vị (employer code)")],
    public_key: Annotated[
        str, typer.Option("--public-key", help="Khoá công khai Ed25519, base64url (32 byte)")
    ],
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Đặt mật khẩu trang web của đơn vị (một dòng stdin)"),
    ] = False,
) -> None:
    """Đăng ký giao dịch điện tử cho một đơn vị đã có trong CSDL (enrol an employer)."""
    from nidb.employers.accounts import enrol
    from nidb.employers.errors import EmployerError
    from nidb.employers.passwords import check_password, hash_password
    from nidb.settings import actor_name
    from nidb.store.db import open_engine

    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    with handled():
        try:
            if password is not None:
                check_password(code, password)
            with open_engine().begin() as conn:
                kid = enrol(
                    conn,
                    code,
                    public_key,
                    actor_name(),
                    password_hash=hash_password(password) if password else None,
                )
        except EmployerError as error:
            raise _refused(error) from None
    out.print(f"Đơn vị {code} đã đăng ký giao dịch; khoá {kid}.")


@employer_app.command("add-key")
def add_key_command(
    code: Annotated[str, typer.Argument(help="Mã đơn vị")],
    public_key: Annotated[str, typer.Option("--public-key", help="Khoá công khai, base64url")],
) -> None:
    """Thêm một khoá ký của đơn vị (add a key, e.g. a renewed certificate)."""
    from nidb.employers.accounts import add_key
    from nidb.employers.errors import EmployerError
    from nidb.settings import actor_name
    from nidb.store.db import open_engine

    with handled():
        try:
            with open_engine().begin() as conn:
                kid = add_key(conn, code, public_key, actor_name())
        except EmployerError as error:
            raise _refused(error) from None
    out.print(f"Đơn vị {code}: thêm khoá {kid}.")


@employer_app.command("revoke-key")
def revoke_key_command(
    code: Annotated[str, typer.Argument(help="Mã đơn vị")],
    kid: Annotated[str, typer.Argument(help="Mã khoá (kid)")],
    reason: Annotated[str, typer.Option("--reason", help="Lý do thu hồi")],
) -> None:
    """Thu hồi một khoá ký: hồ sơ ký bằng khoá này bị từ chối (revoke a key)."""
    from nidb.employers.accounts import revoke_key
    from nidb.employers.errors import EmployerError
    from nidb.settings import actor_name
    from nidb.store.db import open_engine

    with handled():
        try:
            with open_engine().begin() as conn:
                revoke_key(conn, code, kid, actor_name(), reason)
        except EmployerError as error:
            raise _refused(error) from None
    out.print(f"Đơn vị {code}: đã thu hồi khoá {kid}.")


@employer_app.command("unlock")
def unlock_command(code: Annotated[str, typer.Argument(help="Mã đơn vị")]) -> None:
    """Mở khoá đăng nhập của đơn vị bị khoá do nhập sai mật khẩu nhiều lần (clear the sign-in
    lockout of the employer's pages). Audited under NIDB_ACTOR."""
    from nidb.employers.accounts import unlock
    from nidb.employers.errors import EmployerError
    from nidb.settings import actor_name
    from nidb.store.db import open_engine

    with handled():
        try:
            with open_engine().begin() as conn:
                was_locked = unlock(conn, code, actor_name())
        except EmployerError as error:
            raise _refused(error) from None
    if was_locked:
        out.print(f"Đã mở khoá đăng nhập của đơn vị {code}.", highlight=False)
    else:
        out.print(f"Đơn vị {code} không bị khoá; đã đặt lại số lần nhập sai.", highlight=False)


@employer_app.command("list")
def list_command() -> None:
    """Các đơn vị đã đăng ký giao dịch (enrolled employers)."""
    from nidb.employers.accounts import list_accounts
    from nidb.store.db import open_engine

    with handled(), open_engine().connect() as conn:
        rows = list_accounts(conn)
    table = Table("mã đơn vị", "tên", "tỉnh", "trạng thái", "khoá hiệu lực")
    for row in rows:
        state = "hoạt động" if row["status"] == "active" else "tạm dừng"
        table.add_row(
            row["employer_code"], row["name"], row["province"], state, str(row["active_keys"])
        )
    out.print(table)


@employer_app.command("show")
def show_command(code: Annotated[str, typer.Argument(help="Mã đơn vị")]) -> None:
    """Một đơn vị: khoá ký (cả khoá đã thu hồi) và hồ sơ gần đây (an employer's account)."""
    from nidb.employers.accounts import get_account
    from nidb.employers.queries import recent_declarations
    from nidb.store.db import open_engine

    with handled(), open_engine().connect() as conn:
        account = get_account(conn, code)
        declarations = recent_declarations(conn, code) if account else []
    if account is None:
        raise fail(f"employer_code = {code}: đơn vị chưa đăng ký (the employer is not enrolled)")
    out.print(f"{account.employer_code} — {account.name} (tỉnh {account.province})")
    keys = Table("khoá (kid)", "thêm lúc", "thu hồi lúc", "lý do")
    for key in account.keys:
        revoked = key["revoked_at"]
        keys.add_row(
            key["kid"],
            f"{key['added_at']:%d/%m/%Y %H:%M}",
            f"{revoked:%d/%m/%Y %H:%M}" if revoked else "",
            key["revoke_reason"] or "",
        )
    out.print(keys)
    table = Table("số hồ sơ", "loại", "trạng thái", "lần gửi", "lỗi")
    for row in declarations:
        table.add_row(
            row["declaration_no"],
            row["kind"],
            row["status"],
            str(row["attempts"]),
            str(len(row["errors"] or [])),
        )
    out.print(table)


@employer_app.command("declare")
def declare_command(
    code: Annotated[str, typer.Argument(help="Mã đơn vị")],
    file: Annotated[Path, typer.Argument(help="Hồ sơ khai báo, JSON (docs/employers.md)")],
) -> None:
    """Nhập một hồ sơ khai báo thay đơn vị (staff enter a declaration on paper, as JSON)."""
    from nidb.employers.declarations import submit
    from nidb.settings import actor_name
    from nidb.store.db import open_engine

    try:
        body = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise fail(f"{file}: không đọc được JSON (cannot read JSON): {error}") from None
    with handled(), open_engine().begin() as conn:
        outcome = submit(conn, code, body, actor=actor_name(), channel="cli")
    out.print(json.dumps(outcome.as_json(), ensure_ascii=False, indent=2))
    if outcome.status != "applied":
        raise typer.Exit(2)


@employer_app.command("upload")
def upload_command(
    code: Annotated[str, typer.Argument(help="Mã đơn vị")],
    file: Annotated[Path, typer.Argument(help="Danh sách lao động, CSV (employer_workers)")],
    number: Annotated[str, typer.Option("--number", help="Số lần nộp của đơn vị")],
) -> None:
    """Nộp danh sách lao động (CSV); dòng lỗi không chặn dòng đúng (upload a worker list)."""
    from nidb.employers.errors import EmployerError
    from nidb.employers.upload import upload_workers
    from nidb.settings import actor_name
    from nidb.store.db import open_engine

    try:
        data = file.read_bytes()
    except OSError as error:
        raise fail(f"{file}: không đọc được tệp (cannot read the file): {error}") from None
    with handled():
        try:
            result = upload_workers(
                open_engine(), code, number, data, actor=actor_name(), channel="cli"
            )
        except EmployerError as error:
            raise _refused(error) from None
    out.print(
        f"{result.rows} dòng: {result.applied} được chấp nhận, {result.refused} bị từ chối "
        f"({result.rows} rows: {result.applied} applied, {result.refused} refused)."
    )
    table = Table("dòng", "cột", "giá trị", "quy tắc", "lý do")
    for row in result.errors:
        table.add_row(
            str(row["row"]),
            row["field"],
            row["value"],
            row["rule"],
            f"{row['message_vi']} ({row['message_en']})",
        )
    if result.errors:
        out.print(table)
        raise typer.Exit(2)
