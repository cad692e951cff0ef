"""The VNeID stand-in as a real server, and nidb's refusal of anything off in the OIDC flow."""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from nidb.sim.vneid.tokens import IssuerKey, b64url, s256
from nidb.store.models import AuditEntry
from nidb.store.models_web import WebSession
from nidb.web.oidc import OidcError, pkce_pair, verify_id_token
from tests.seed import PID
from tests.web.conftest import VNEID_CLIENT_SECRET, Vneid

ISSUER = "http://127.0.0.1:9"
KEY = IssuerKey()
JWKS = {"keys": [KEY.jwk()]}


def _claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": ISSUER, "sub": "abc", "aud": "nidb-portal", "iat": now, "exp": now + 300,
        "nonce": "n-1", "personal_id": PID, "name": "Nguyễn Văn An", "birthdate": "1985-03-17",
        "gender": "male",
    }  # fmt: skip
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _verify(token: str, jwks: dict[str, Any] = JWKS) -> Any:
    return verify_id_token(token, jwks=jwks, issuer=ISSUER, client_id="nidb-portal", nonce="n-1")


def test_a_good_id_token_gives_the_verified_identity() -> None:
    identity = _verify(KEY.sign(_claims()))
    assert (identity.personal_id, identity.full_name, identity.subject) == (
        PID, "Nguyễn Văn An", "abc",
    )  # fmt: skip


def _unsigned(claims: dict[str, Any]) -> str:
    header = b64url(json.dumps({"alg": "none"}).encode())
    return f"{header}.{b64url(json.dumps(claims).encode())}.x"


@pytest.mark.parametrize(
    ("make_token", "reason"),
    [
        (lambda: KEY.sign(_claims(iss="http://evil.example")), "wrong issuer"),
        (lambda: KEY.sign(_claims(aud="another-client")), "wrong audience"),
        (lambda: KEY.sign(_claims(exp=int(time.time()) - 120)), "token expired"),
        (lambda: KEY.sign(_claims(iat=int(time.time()) + 600)), "token issued in the future"),
        (lambda: KEY.sign(_claims(nonce="replayed")), "nonce mismatch"),
        (lambda: KEY.sign(_claims(personal_id="12345")), "personal_id claim is not a valid personal ID"),
        (lambda: IssuerKey().sign(_claims()), "unknown key id"),
        (lambda: _unsigned(_claims()), "algorithm 'none' refused"),
        (lambda: "a.b", "not a compact JWS"),
    ],
    ids=["issuer", "audience", "expired", "future", "nonce", "personal-id", "foreign-key", "none", "garbage"],
)  # fmt: skip
def test_anything_off_in_the_id_token_is_refused(
    make_token: Callable[[], str], reason: str
) -> None:
    # tokens are made when the test runs: made at collection, a good one expires in a long suite
    with pytest.raises(OidcError) as refused:
        _verify(make_token())
    assert refused.value.reason == reason


def test_a_tampered_payload_fails_the_signature() -> None:
    header, _payload, signature = KEY.sign(_claims()).split(".")
    forged = b64url(json.dumps(_claims(personal_id="079190001234")).encode())
    with pytest.raises(OidcError) as refused:
        _verify(f"{header}.{forged}.{signature}")
    assert refused.value.reason == "bad signature"


# --- the stand-in over HTTP -----------------------------------------------------------------------


def _authorize_params(
    redirect_uri: str = "http://127.0.0.1:8000/cong-dan/dang-nhap/vneid/callback",
) -> tuple[dict[str, str], str]:
    verifier, challenge = pkce_pair()
    return {
        "response_type": "code", "client_id": "nidb-portal", "redirect_uri": redirect_uri,
        "scope": "openid profile", "state": "s-1", "nonce": "n-1",
        "code_challenge": challenge, "code_challenge_method": "S256",
    }, verifier  # fmt: skip


def _code(http: httpx.Client, url: str, params: dict[str, str], password: str = "123456") -> str:
    answer = http.post(
        f"{url}/authorize", data={**params, "personal_id": PID, "password": password}
    )
    assert answer.status_code == 303, answer.text
    return re.search(r"code=([^&]+)", answer.headers["location"]).group(1)  # type: ignore[union-attr]


def test_stand_in_discovery_jwks_and_code_flow_with_pkce(vneid: Vneid) -> None:
    with httpx.Client() as http:
        meta = http.get(f"{vneid.url}/.well-known/openid-configuration").json()
        assert meta["issuer"] == vneid.url and meta["code_challenge_methods_supported"] == ["S256"]
        jwks = http.get(meta["jwks_uri"]).json()
        params, verifier = _authorize_params()
        page = http.get(f"{vneid.url}/authorize", params=params)
        assert page.status_code == 200 and "Số định danh cá nhân" in page.text
        code = _code(http, vneid.url, params)
        token = http.post(
            meta["token_endpoint"],
            data={"grant_type": "authorization_code", "code": code,
                  "redirect_uri": params["redirect_uri"], "code_verifier": verifier},
            auth=("nidb-portal", VNEID_CLIENT_SECRET),
        )  # fmt: skip
        assert token.status_code == 200, token.text
        body = token.json()
        identity = verify_id_token(
            body["id_token"], jwks=jwks, issuer=vneid.url, client_id="nidb-portal", nonce="n-1"
        )
        assert identity.personal_id == PID
        info = http.get(
            meta["userinfo_endpoint"], headers={"authorization": f"Bearer {body['access_token']}"}
        )
        assert info.json()["name"] == "Nguyễn Văn An"
        # the code is one-time
        again = http.post(
            meta["token_endpoint"],
            data={"grant_type": "authorization_code", "code": code,
                  "redirect_uri": params["redirect_uri"], "code_verifier": verifier},
            auth=("nidb-portal", VNEID_CLIENT_SECRET),
        )  # fmt: skip
        assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_stand_in_refuses_bad_verifier_wrong_secret_and_foreign_redirect(vneid: Vneid) -> None:
    with httpx.Client() as http:
        params, verifier = _authorize_params()
        code = _code(http, vneid.url, params)
        wrong_secret = http.post(
            f"{vneid.url}/token",
            data={"grant_type": "authorization_code", "code": code,
                  "redirect_uri": params["redirect_uri"], "code_verifier": verifier},
            auth=("nidb-portal", "not-the-secret"),
        )  # fmt: skip
        assert wrong_secret.status_code == 401
        code = _code(http, vneid.url, params)
        bad_pkce = http.post(
            f"{vneid.url}/token",
            data={"grant_type": "authorization_code", "code": code,
                  "redirect_uri": params["redirect_uri"], "code_verifier": "x" * 50,
                  "client_id": "nidb-portal", "client_secret": VNEID_CLIENT_SECRET},
        )  # fmt: skip
        assert bad_pkce.status_code == 400 and bad_pkce.json()["error"] == "invalid_grant"
        foreign, _ = _authorize_params("https://evil.example/cong-dan/dang-nhap/vneid/callback")
        refused = http.get(f"{vneid.url}/authorize", params=foreign)
        assert refused.status_code == 400 and "redirect_uri" in refused.text
        no_pkce = {**params, "code_challenge_method": "plain"}
        assert http.get(f"{vneid.url}/authorize", params=no_pkce).status_code == 400


def test_stand_in_sign_in_page_explains_bad_input_in_vietnamese(vneid: Vneid) -> None:
    with httpx.Client() as http:
        params, _ = _authorize_params()
        wrong_format = http.post(
            f"{vneid.url}/authorize", data={**params, "personal_id": "12ab", "password": "x"}
        )
        assert wrong_format.status_code == 400
        assert "Số định danh cá nhân gồm đúng 12 chữ số." in wrong_format.text
        wrong_password = http.post(
            f"{vneid.url}/authorize", data={**params, "personal_id": PID, "password": "000000"}
        )
        assert wrong_password.status_code == 401 and "không đúng" in wrong_password.text
        script = http.post(
            f"{vneid.url}/authorize",
            data={**params, "personal_id": "<script>", "password": "x"},
        )
        assert "<script>" not in script.text


# --- nidb's side of the flow ----------------------------------------------------------------------


def test_a_callback_without_the_browser_that_started_it_is_refused(
    client: TestClient, register: Engine, vneid: Vneid
) -> None:
    start = client.get("/cong-dan/dang-nhap/vneid")
    state = re.search(r"state=([^&]+)", start.headers["location"]).group(1)  # type: ignore[union-attr]
    client.cookies.delete("nidb_oidc")  # another browser: no binding cookie
    answer = client.get(f"/cong-dan/dang-nhap/vneid/callback?state={state}&code=abc")
    assert answer.status_code == 400 and "không hợp lệ hoặc đã hết hạn" in answer.text
    with register.connect() as conn:
        assert conn.execute(select(WebSession)).first() is None
        failed = conn.execute(
            select(AuditEntry.detail).where(AuditEntry.action == "citizen.sign_in_failed")
        ).scalars().all()  # fmt: skip
    assert failed and "state" in failed[0]["reason"]


def test_a_replayed_callback_is_refused(client: TestClient, register: Engine, vneid: Vneid) -> None:
    start = client.get("/cong-dan/dang-nhap/vneid")
    params = dict(httpx.URL(start.headers["location"]).params)
    with httpx.Client() as http:
        back = http.post(
            f"{vneid.url}/authorize", data={**params, "personal_id": PID, "password": "123456"}
        )
    callback = back.headers["location"].removeprefix("http://testserver")
    browser_cookie = client.cookies.get("nidb_oidc")
    assert client.get(callback).status_code == 303  # signed in
    client.cookies.set("nidb_oidc", browser_cookie or "", path="/cong-dan/dang-nhap/vneid")
    replay = client.get(callback)  # same state and code again, same browser
    assert replay.status_code == 400 and "đã hết hạn" in replay.text
    with register.connect() as conn:
        assert len(conn.execute(select(WebSession)).all()) == 1


def test_the_stand_in_reads_people_from_csv_and_from_a_register(
    tmp_path: Any, register: Engine, database_url: str
) -> None:
    from nidb.sim.vneid.people import CsvPeople, DatabasePeople

    csv = tmp_path / "people.csv"
    csv.write_text(
        "personal_id,full_name,date_of_birth,gender,password\n"
        f"{PID},Nguyễn Văn An,1985-03-17,M,Rieng-2026\n",
        encoding="utf-8",
    )
    from_csv = CsvPeople(csv).find(PID)
    assert from_csv is not None and from_csv.password == "Rieng-2026"
    from_db = DatabasePeople(database_url).find(PID)
    assert from_db is not None and (from_db.full_name, from_db.gender) == ("Nguyễn Văn An", "M")
    assert DatabasePeople(database_url).find("079190009999") is None


def test_nidb_sim_vneid_needs_exactly_one_source_of_people() -> None:
    from typer.testing import CliRunner

    from nidb.cli import app

    answer = CliRunner().invoke(app, ["sim", "vneid", "--port", "0"])
    assert answer.exit_code == 2 and "--people FILE hoặc --db URL" in answer.output


def test_cancelling_at_vneid_says_so_and_signs_nobody_in(
    client: TestClient, register: Engine, vneid: Vneid
) -> None:
    start = client.get("/cong-dan/dang-nhap/vneid")
    authorize = start.headers["location"]
    params = dict(httpx.URL(authorize).params)
    with httpx.Client() as http:
        back = http.post(f"{vneid.url}/authorize", data={**params, "action": "cancel"})
    answer = client.get(back.headers["location"].removeprefix("http://testserver"))
    assert answer.status_code == 400 and "Bạn đã hủy đăng nhập bằng VNeID." in answer.text
    assert client.get("/cong-dan/").status_code == 303


def test_vneid_down_gives_a_clear_message(client: TestClient, web_env: Any) -> None:
    web_env.setenv("NIDB_VNEID_URL", "http://127.0.0.1:9")
    answer = client.get("/cong-dan/dang-nhap/vneid")
    assert answer.status_code == 503 and "VNeID tạm thời không phản hồi" in answer.text


def test_s256_matches_rfc_7636_example() -> None:
    assert s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == (
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )
    assert base64.urlsafe_b64decode(KEY.jwk()["x"] + "=")  # a JWK that decodes


def test_nidb_sim_vneid_with_an_empty_db_says_what_to_give() -> None:
    from typer.testing import CliRunner

    from nidb.cli import app

    # the README once had `--db "$NIDB_DATABASE_URL"`, empty with the default SQLite (issue 17)
    answer = CliRunner().invoke(app, ["sim", "vneid", "--port", "0", "--db", ""])
    assert answer.exit_code == 2 and "--db rỗng" in answer.output
    assert "Traceback" not in answer.output
