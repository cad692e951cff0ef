"""Commands of ``nidb.web``, mounted on the ``nidb`` command by ``nidb.cli`` (`mount`).

``nidb staff-user add|list|disable|enable|set-password|reset-2fa`` manage staff accounts (reset-2fa
removes an account's second factor so it enrols again); passwords come
from a hidden prompt, from ``--password-stdin`` (one line) or from ``NIDB_STAFF_PASSWORD``, never
from the command line where ``ps`` and shell history would see them.
"""

import os
import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from nidb.terminal import fail, handled, out

if TYPE_CHECKING:
    from nidb.web.staff_users import StaffUserError

__all__ = ["mount", "staff_app"]

staff_app = typer.Typer(help="Tài khoản cán bộ (staff accounts).", no_args_is_help=True)


def mount(app: typer.Typer) -> None:
    """Add `nidb staff-user` to the main command."""
    app.add_typer(staff_app, name="staff-user")


def _password(from_stdin: bool, confirm: bool = True) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    env = os.environ.get("NIDB_STAFF_PASSWORD")
    if env:
        return env
    return str(typer.prompt("Mật khẩu (password)", hide_input=True, confirmation_prompt=confirm))


def _refused(error: "StaffUserError") -> typer.Exit:
    return fail(f"{error.field}: {error.message_vi} ({error.message_en})", 2)


@staff_app.command("add")
def add(
    username: Annotated[str, typer.Argument(help="Tên đăng nhập (a-z, 0-9, . _ -)")],
    role: Annotated[str, typer.Option(help="reviewer | approver | auditor | admin")],
    full_name: Annotated[str, typer.Option("--full-name", help="Họ và tên")] = "",
    scope: Annotated[str, typer.Option(help="central | province | district")] = "",
    province: Annotated[str | None, typer.Option(help="Mã tỉnh (2 chữ số)")] = None,
    district: Annotated[str | None, typer.Option(help="Mã huyện")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Đọc mật khẩu từ một dòng stdin")
    ] = False,
) -> None:
    """Tạo tài khoản cán bộ (create a staff account)."""
    from nidb.settings import actor_name
    from nidb.store.db import open_engine
    from nidb.web.staff_users import StaffUserError, create_staff_user

    scope_level = scope or ("district" if district else "province" if province else "central")
    password = _password(password_stdin)
    with handled():
        try:
            create_staff_user(
                open_engine(),
                username=username,
                full_name=full_name or username,
                password=password,
                role=role,
                scope_level=scope_level,
                province_code=province,
                district_code=district,
                actor=actor_name(),
            )
        except StaffUserError as error:
            raise _refused(error) from None
    out.print(f"Đã tạo tài khoản [bold]{username}[/] ({role}, {scope_level}).", highlight=False)


@staff_app.command("list")
def list_users() -> None:
    """Liệt kê tài khoản cán bộ (list staff accounts)."""
    from nidb.store.db import open_engine
    from nidb.web.staff_users import list_staff_users

    with handled():
        users = list_staff_users(open_engine())
    table = Table(
        "username", "họ tên", "vai trò", "phạm vi", "trạng thái", "xác thực 2 bước",
        "đăng nhập gần nhất",
    )  # fmt: skip
    for user in users:
        scope = (
            user.scope_level
            + (f" {user.province_code}" if user.province_code else "")
            + (f"/{user.district_code}" if user.district_code else "")
        )
        state = "hoạt động" if user.active else "vô hiệu"
        if user.locked_until is not None:
            state += " (có khóa)"
        last = user.last_sign_in_at.strftime("%Y-%m-%d %H:%M") if user.last_sign_in_at else "—"
        second = "đã bật" if user.totp_enrolled_at is not None else "chưa bật"
        table.add_row(user.username, user.full_name, user.role, scope, state, second, last)
    out.print(table)


def _set_active(username: str, active: bool) -> None:
    from nidb.settings import actor_name
    from nidb.store.db import open_engine
    from nidb.web.staff_users import StaffUserError, set_active

    with handled():
        try:
            set_active(open_engine(), username, active, actor=actor_name())
        except StaffUserError as error:
            raise _refused(error) from None


@staff_app.command("disable")
def disable(username: str) -> None:
    """Vô hiệu hóa tài khoản (disable an account; its sessions stop at once)."""
    _set_active(username, False)
    out.print(f"Đã vô hiệu hóa {username}.", highlight=False)


@staff_app.command("enable")
def enable(username: str) -> None:
    """Kích hoạt lại tài khoản (re-enable an account, clearing any lockout)."""
    _set_active(username, True)
    out.print(f"Đã kích hoạt {username}.", highlight=False)


@staff_app.command("set-password")
def set_password_command(
    username: str,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Đọc mật khẩu từ một dòng stdin")
    ] = False,
) -> None:
    """Đặt lại mật khẩu (set a new password; clears the lockout)."""
    from nidb.settings import actor_name
    from nidb.store.db import open_engine
    from nidb.web.staff_users import StaffUserError, set_password

    with handled():
        try:
            set_password(open_engine(), username, _password(password_stdin), actor=actor_name())
        except StaffUserError as error:
            raise _refused(error) from None
    out.print(f"Đã đặt mật khẩu mới cho {username}.", highlight=False)


@staff_app.command("reset-2fa")
def reset_second_factor_command(username: str) -> None:
    """Đặt lại xác thực hai bước (remove the account's TOTP and recovery codes, end its
    sessions; it enrols again at its next sign-in). Audited under NIDB_ACTOR."""
    from nidb.settings import actor_name
    from nidb.store.db import open_engine
    from nidb.web.staff_totp import reset_second_factor
    from nidb.web.staff_users import StaffUserError

    with handled():
        try:
            reset_second_factor(open_engine(), username, actor=actor_name())
        except StaffUserError as error:
            raise _refused(error) from None
    out.print(
        f"Đã đặt lại xác thực hai bước của {username}: đăng ký lại ở lần đăng nhập sau.",
        highlight=False,
    )
