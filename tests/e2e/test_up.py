"""The README's web section as a new user follows it (issue 17): `nidb up`, exactly as written,
in an empty folder; every server answers, the printed demo citizen and staff member sign in
through the browser, every page of the portal and the console they reach shows no raw code of
the reason, rule, status, gender, service or information-group vocabularies, and SIGINT leaves
no process behind."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest

from tests.e2e.conftest import ROOT
from tests.e2e.test_vocabulary_browser import visit_all

pytestmark = pytest.mark.slow
SHOTS = Path("/tmp/shots-experience")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _read_until_ready(process: subprocess.Popen[str], timeout: float) -> str:
    assert process.stdout is not None
    text = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        text += line
        if "Ctrl-C" in line:
            return text
    process.kill()
    raise AssertionError(f"nidb up did not come up:\n{text}")


def test_nidb_up_brings_up_the_stack_and_ctrl_c_stops_it(tmp_path: Path, browser: Any) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NIDB_")}
    env.update(COLUMNS="250", PYTHONPATH=str(ROOT), NO_COLOR="1")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    web = readme.split("### Citizen portal, online public services and the staff console", 1)[1]
    command = re.search(r"```sh\n(nidb up\b[^#\n]*)", web)
    assert command, "the README's web section starts with `nidb up`"
    process = subprocess.Popen(  # the line as written; its data folder is ./var
        [sys.executable, "-m", "nidb", *command.group(1).split()[1:]],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    children: list[int] = []
    try:
        printed = _read_until_ready(process, 300)
        children = _children(process.pid)
        # population, VNeID, payment, business, MOLISA, webhook, the four national platforms,
        # SMTP, SMS, the notifier, nidb
        assert len(children) == 14, printed
        table = printed.split("nidb đang chạy", 1)[1]
        urls = re.findall(r"^│ [^│]+│ (http://127\.0\.0\.1:\d+) ", table, re.M)  # column 2
        assert len(urls) == 13, table  # the notifier has no URL
        for url in set(urls):
            assert httpx.get(url + "/docs", timeout=10).status_code in (200, 404), url
        boxes = [u for u in urls if httpx.get(u + "/messages", timeout=10).status_code == 200]
        assert len(boxes) == 2, urls  # the mail server's and the SMS gateway's received messages
        nidb = re.search(r"Công dân: (http://127\.0\.0\.1:\d+)/cong-dan/", printed)
        citizen = re.search(r"số định danh (\d{12})", printed)
        staff = re.search(r"tên đăng nhập (\S+), mật khẩu (\S+)", printed)
        assert nidb and citizen and staff, printed
        base = nidb.group(1)

        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
        page = context.new_page()
        page.goto(f"{base}/cong-dan/dang-nhap")
        page.get_by_role("link", name="Đăng nhập bằng tài khoản định danh điện tử VNeID").click()
        page.get_by_label("Số định danh cá nhân").fill(citizen.group(1))
        page.get_by_label("Mật khẩu hoặc mã OTP").fill("123456")
        page.get_by_label("Mật khẩu hoặc mã OTP").press("Enter")
        page.wait_for_load_state()
        assert "/cong-dan" in page.url and "dang-nhap" not in page.url, page.url
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / "up-citizen-1280.png"), full_page=True)
        problems = visit_all(page, base, "/cong-dan/", "/cong-dan", 1280, "up-citizen")
        context.close()

        context = browser.new_context(viewport={"width": 375, "height": 812}, locale="vi-VN")
        page = context.new_page()
        page.goto(f"{base}/can-bo/dang-nhap")
        page.get_by_label("Tên đăng nhập").fill(staff.group(1))
        page.get_by_label("Mật khẩu").fill(staff.group(2))
        page.get_by_label("Mật khẩu").press("Enter")
        page.wait_for_load_state()
        assert "dang-nhap" not in page.url, page.url
        page.screenshot(path=str(SHOTS / "up-staff-375.png"), full_page=True)
        # a new staff member sets up the second factor first, as the page asks (the test plays
        # the authenticator app from the secret shown), then reaches the console
        assert "/can-bo/xac-thuc-hai-buoc" in page.url, page.url
        secret = page.locator("#khoa-bi-mat").inner_text().replace(" ", "")
        page.get_by_label("Mã 6 chữ số trong ứng dụng").fill(pyotp.TOTP(secret).now())
        page.get_by_label("Mã 6 chữ số trong ứng dụng").press("Enter")
        page.wait_for_load_state()
        page.get_by_role("link", name="Tôi đã lưu các mã, tiếp tục").click()
        page.wait_for_load_state()
        assert page.url == f"{base}/can-bo/", page.url
        problems |= visit_all(page, base, "/can-bo/", "/can-bo", 375, "up-staff")
        context.close()
        assert problems == {}, problems

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 130
        time.sleep(0.5)
        assert [pid for pid in children if _alive(pid)] == []
    finally:
        if process.poll() is None:  # a failed assertion: stop the stack as Ctrl-C would
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        for pid in children:  # none should be left; if any is, it must not outlive the test
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
