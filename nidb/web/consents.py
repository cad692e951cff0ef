"""Consent choices (lựa chọn đồng ý chia sẻ) of a citizen, with their full history.

Each change appends a row and an audit entry in one transaction; the latest row per topic is in
force; no row means "not given" (Decree 13/2023: consent is opt-in, never presumed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, insert, select

from nidb.store.audit import write_audit
from nidb.store.models_web import ConsentChoice


@dataclass(frozen=True)
class ConsentTopic:
    """Something a citizen may agree to."""

    key: str
    label_vi: str
    hint_vi: str


TOPICS: tuple[ConsentTopic, ...] = (
    ConsentTopic(
        "bank_loan",
        "Chia sẻ quá trình đóng BHXH với ngân hàng khi tôi vay vốn",
        "Ngân hàng chỉ được xem mức lương đóng BHXH 12 tháng gần nhất, khi bạn nộp hồ sơ vay.",
    ),
    ConsentTopic(
        "employer",
        "Cho phép đơn vị tuyển dụng xem quá trình tham gia BHXH của tôi",
        "Đơn vị chỉ xem được thời gian và nơi tham gia, không xem mức lương.",
    ),
    ConsentTopic(
        "notify_sms",
        "Nhận thông báo biến động (đóng, hưởng, thẻ BHYT) qua tin nhắn SMS",
        "",
    ),
    ConsentTopic(
        "notify_email",
        "Nhận thông báo biến động qua thư điện tử",
        "",
    ),
    ConsentTopic(
        "notify_access",
        "Báo cho tôi mỗi khi cơ quan, tổ chức hoặc cán bộ xem dữ liệu của tôi",
        "Gửi qua thư điện tử hoặc SMS (kênh bạn chọn ở trên), gộp các lần xem trong một giờ. "
        "Nhập địa chỉ nhận ở mục Cài đặt thông báo.",
    ),
)
TOPIC_KEYS = {t.key for t in TOPICS}


def current_choices(engine: Engine, personal_id: str) -> dict[str, bool]:
    """Topic → in force (False when never given)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(ConsentChoice.topic, ConsentChoice.granted)
            .where(ConsentChoice.personal_id == personal_id)
            .order_by(ConsentChoice.id)
        ).all()
    choices = {t.key: False for t in TOPICS}
    for topic, granted in rows:  # later rows override earlier ones
        choices[topic] = bool(granted)
    return choices


def history(engine: Engine, personal_id: str, limit: int = 50) -> list[Any]:
    """Past changes, newest first."""
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(ConsentChoice.topic, ConsentChoice.granted, ConsentChoice.changed_at)
                .where(ConsentChoice.personal_id == personal_id)
                .order_by(ConsentChoice.id.desc())
                .limit(limit)
            ).all()
        )


def save_choices(engine: Engine, personal_id: str, wanted: Mapping[str, bool]) -> list[str]:
    """Record the topics whose choice changed (one transaction, audited); returns them."""
    unknown = set(wanted) - TOPIC_KEYS
    if unknown:
        raise ValueError(f"unknown consent topics: {sorted(unknown)}")
    before = current_choices(engine, personal_id)
    changed = [key for key, value in wanted.items() if before.get(key, False) != value]
    if not changed:
        return []
    with engine.begin() as conn:
        for key in changed:
            conn.execute(
                insert(ConsentChoice).values(
                    personal_id=personal_id, topic=key, granted=wanted[key]
                )
            )
        write_audit(
            conn,
            actor=f"citizen:{personal_id}",
            action="citizen.consent",
            subject_type="citizen",
            subject_id=personal_id,
            purpose=None,
            detail={key: wanted[key] for key in changed},
        )
    return changed
