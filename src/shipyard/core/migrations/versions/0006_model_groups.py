"""Model groups: several registered models serving one use case.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BIGINT_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "model_group",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("use_case_id", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("creation_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_group")),
        sa.UniqueConstraint("name", name=op.f("uq_model_group_name")),
    )
    op.create_table(
        "model_group_member",
        sa.Column("group_id", sa.String(length=32), nullable=False),
        sa.Column("model_name", sa.String(length=256), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["model_group.id"],
            name=op.f("fk_model_group_member_group_id_model_group"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["model_name"],
            ["registered_model.name"],
            name=op.f("fk_model_group_member_model_name_registered_model"),
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", "model_name", name=op.f("pk_model_group_member")),
    )


def downgrade() -> None:
    op.drop_table("model_group_member")
    op.drop_table("model_group")
