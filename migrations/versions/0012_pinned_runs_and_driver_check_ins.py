"""pinned runs and driver check-ins

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-22 00:48:13.396602
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate may refer to sqlmodel types)
from alembic import op
from sqlalchemy.dialects import postgresql

import core.db

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dispatch_check_in",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("carrier_id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("tractor_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("move_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("stop", sa.String(length=8), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("receiver_name", sa.String(length=100), nullable=True),
        sa.Column("event_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["carrier_id"], ["organisation.id"], name=op.f("fk_dispatch_check_in_carrier_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["move_id"], ["dispatch_move.id"], name=op.f("fk_dispatch_check_in_move_id_dispatch_move")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["dispatch_plan.id"], name=op.f("fk_dispatch_check_in_plan_id_dispatch_plan")
        ),
        sa.ForeignKeyConstraint(
            ["tractor_id"], ["dispatch_tractor.id"], name=op.f("fk_dispatch_check_in_tractor_id_dispatch_tractor")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispatch_check_in")),
        sa.UniqueConstraint(
            "plan_id", "move_id", "stop", "action", name=op.f("uq_dispatch_check_in_plan_id_move_id_stop_action")
        ),
    )
    op.create_index(op.f("ix_dispatch_check_in_carrier_id"), "dispatch_check_in", ["carrier_id"], unique=False)
    op.create_index(op.f("ix_dispatch_check_in_move_id"), "dispatch_check_in", ["move_id"], unique=False)
    op.create_index(op.f("ix_dispatch_check_in_plan_id"), "dispatch_check_in", ["plan_id"], unique=False)
    with op.batch_alter_table("dispatch_plan") as batch:
        batch.add_column(
            sa.Column(
                "pinned_runs",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )
        batch.add_column(sa.Column("source_plan_id", sa.Uuid(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_dispatch_plan_source_plan_id_dispatch_plan"), "dispatch_plan", ["source_plan_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("dispatch_plan") as batch:
        batch.drop_constraint(op.f("fk_dispatch_plan_source_plan_id_dispatch_plan"), type_="foreignkey")
        batch.drop_column("source_plan_id")
        batch.drop_column("pinned_runs")
    op.drop_index(op.f("ix_dispatch_check_in_plan_id"), table_name="dispatch_check_in")
    op.drop_index(op.f("ix_dispatch_check_in_move_id"), table_name="dispatch_check_in")
    op.drop_index(op.f("ix_dispatch_check_in_carrier_id"), table_name="dispatch_check_in")
    op.drop_table("dispatch_check_in")
