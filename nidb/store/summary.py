"""A summary of the register: rows per information group and the latest batches."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from sqlalchemy import Engine, func, select

from nidb.store import models

GROUPS: tuple[tuple[str, type[models.Base]], ...] = (
    ("Công dân (CSDL dân cư) — citizens from the population database", models.Citizen),
    ("Hồ sơ người tham gia — insurance person records", models.Person),
    ("Liên kết mã BHXH ↔ số định danh — identity links", models.IdentityLink),
    ("Đơn vị sử dụng lao động — employers", models.Employer),
    ("Quá trình tham gia — participation periods", models.ParticipationPeriod),
    ("Đóng góp hằng tháng — monthly contributions", models.Contribution),
    ("Thẻ BHYT — health-insurance cards", models.HealthCard),
    ("Chế độ hưởng — benefits", models.Benefit),
    ("Lượt khám chữa bệnh — hospital visits", models.HealthVisit),
    ("Đối tượng bảo trợ xã hội — welfare beneficiaries", models.WelfareBeneficiary),
)


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows per register table."""
    with engine.connect() as conn:
        return {
            model.__tablename__: conn.execute(select(func.count()).select_from(model)).scalar_one()
            for _, model in GROUPS
        }


def register_summary(engine: Engine) -> Group:
    """Counts per information group, and the last ten import batches."""
    counts = row_counts(engine)
    groups = Table(title="Sổ đăng ký (the register)")
    groups.add_column("nhóm thông tin (information group)")
    groups.add_column("số dòng (rows)", justify="right")
    for label, model in GROUPS:
        groups.add_row(label, f"{counts[model.__tablename__]:,}")
    batches = Table(title="Các lô nạp gần nhất (latest import batches)")
    for column in ("lô", "loại", "tệp", "đọc", "thêm", "cập nhật", "không đổi", "bị loại"):
        batches.add_column(column, justify="right" if column not in ("loại", "tệp") else "left")
    with engine.connect() as conn:
        rows = conn.execute(
            select(models.ImportBatch.__table__).order_by(models.ImportBatch.id.desc()).limit(10)
        ).all()
    for b in rows:
        batches.add_row(
            str(b.id),
            b.kind,
            b.source_name.rsplit("/", 1)[-1],
            f"{b.rows_read:,}",
            f"{b.rows_inserted:,}",
            f"{b.rows_updated:,}",
            f"{b.rows_unchanged:,}",
            f"{b.rows_rejected:,}",
        )
    return Group(groups, batches)
