"""Commands of ``nidb.web``, mounted on the ``nidb`` command by ``nidb.cli``.

``nidb staff-user add|list|disable|enable|set-password`` manage staff accounts; passwords come
from a hidden prompt, from ``--password-stdin`` (one line) or from ``NIDB_STAFF_PASSWORD``, never
from the command line where ``ps`` and shell history would see them.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from nidb.settings import actor_name
from nidb.store.db import ensure_schema, make_engine

staff_app = typer.Typer(help="Tài khoản cán bộ (staff accounts).", no_args_is_help=True)
out = Console()
err = Console(stderr=True)


def _engine():  # type: ignore[no-untyped-def]
    engine = make_engine()
    ensure_schema(engine)
    return engine


def _password(from_stdin: bool, confirm: bool = True) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    env = os.environ.get("NIDB_STAFF_PASSWORD")
    if env:
        return env
    return str(typer.prompt("Mật khẩu (password)", hide_input=True, confirmation_prompt=confirm))


def _fail(error: Exception) -> typer.Exit:
    from nidb.web.staff_users import StaffUserError

    if isinstance(error, StaffUserError):
        err.print(
            f"[bold red]Lỗi (error):[/] {error.field}: {error.message_vi} ({error.message_en})",
            highlight=False,
        )
    else:
        err.print(f"[bold red]Lỗi (error):[/] {error}", highlight=False)
    return typer.Exit(2)


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
    from nidb.web.staff_users import StaffUserError, create_staff_user

    scope_level = scope or ("district" if district else "province" if province else "central")
    password = _password(password_stdin)
    try:
        create_staff_user(
            _engine(),
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
        raise _fail(error) from None
    out.print(f"Đã tạo tài khoản [bold]{username}[/] ({role}, {scope_level}).", highlight=False)


@staff_app.command("list")
def list_users() -> None:
    """Liệt kê tài khoản cán bộ (list staff accounts)."""
    from nidb.web.staff_users import list_staff_users

    table = Table("username", "họ tên", "vai trò", "phạm vi", "trạng thái", "đăng nhập gần nhất")
    for user in list_staff_users(_engine()):
        scope = (
            user.scope_level
            + (f" {user.province_code}" if user.province_code else "")
            + (f"/{user.district_code}" if user.district_code else "")
        )
        state = "hoạt động" if user.active else "vô hiệu"
        if user.locked_until is not None:
            state += " (có khóa)"
        last = user.last_sign_in_at.strftime("%Y-%m-%d %H:%M") if user.last_sign_in_at else "—"
        table.add_row(user.username, user.full_name, user.role, scope, state, last)
    out.print(table)


@staff_app.command("disable")
def disable(username: str) -> None:
    """Vô hiệu hóa tài khoản (disable an account; its sessions stop at once)."""
    from nidb.web.staff_users import StaffUserError, set_active

    try:
        set_active(_engine(), username, False, actor=actor_name())
    except StaffUserError as error:
        raise _fail(error) from None
    out.print(f"Đã vô hiệu hóa {username}.", highlight=False)


@staff_app.command("enable")
def enable(username: str) -> None:
    """Kích hoạt lại tài khoản (re-enable an account, clearing any lockout)."""
    from nidb.web.staff_users import StaffUserError, set_active

    try:
        set_active(_engine(), username, True, actor=actor_name())
    except StaffUserError as error:
        raise _fail(error) from None
    out.print(f"Đã kích hoạt {username}.", highlight=False)


@staff_app.command("set-password")
def set_password_command(
    username: str,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Đọc mật khẩu từ một dòng stdin")
    ] = False,
) -> None:
    """Đặt lại mật khẩu (set a new password; clears the lockout)."""
    from nidb.web.staff_users import StaffUserError, set_password

    try:
        set_password(_engine(), username, _password(password_stdin), actor=actor_name())
    except StaffUserError as error:
        raise _fail(error) from None
    out.print(f"Đã đặt mật khẩu mới cho {username}.", highlight=False)


def mount(app: typer.Typer, sim_app: typer.Typer) -> None:
    """Add this package's commands to ``nidb``."""
    app.add_typer(staff_app, name="staff-user")
