"""Registry tables: registered models, versions, tags, aliases, alias history, approvals.

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None

BIGINT_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "alias_event",
        sa.Column("id", BIGINT_KEY, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("alias", sa.String(length=255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("previous_version", sa.Integer(), nullable=True),
        sa.Column("occurred_at", sa.BigInteger(), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("approved_by", sa.String(length=200), nullable=True),
        sa.Column("approval_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("metrics", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alias_event")),
    )
    op.create_index("ix_alias_event_model", "alias_event", ["name", "alias", "id"])

    op.create_table(
        "approval_request",
        sa.Column("id", BIGINT_KEY, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("alias", sa.String(length=255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("requested_at", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", sa.BigInteger(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("metrics", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_request")),
    )
    op.create_index("ix_approval_request_state", "approval_request", ["status", "name"])

    op.create_table(
        "registered_model",
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("creation_time", sa.BigInteger(), nullable=False),
        sa.Column("last_updated_time", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("user_id", sa.String(length=256), nullable=False),
        sa.Column("use_case_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_registered_model")),
    )
    op.create_table(
        "model_version",
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("creation_time", sa.BigInteger(), nullable=False),
        sa.Column("last_updated_time", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("user_id", sa.String(length=256), nullable=False),
        sa.Column("source", sa.String(length=1000), nullable=False),
        sa.Column("storage_location", sa.String(length=1000), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.Column("model_id", sa.String(length=64), nullable=True),
        sa.Column("run_link", sa.String(length=1000), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("status_message", sa.Text(), nullable=True),
        sa.Column("current_stage", sa.String(length=20), nullable=False),
        sa.Column("lifecycle", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["name"],
            ["registered_model.name"],
            name=op.f("fk_model_version_name_registered_model"),
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("name", "version", name=op.f("pk_model_version")),
    )
    op.create_index("ix_model_version_model", "model_version", ["model_id"])
    op.create_index("ix_model_version_run", "model_version", ["run_id"])

    op.create_table(
        "registered_model_alias",
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("alias", sa.String(length=255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["name"],
            ["registered_model.name"],
            name=op.f("fk_registered_model_alias_name_registered_model"),
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("name", "alias", name=op.f("pk_registered_model_alias")),
    )
    op.create_table(
        "registered_model_tag",
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["name"],
            ["registered_model.name"],
            name=op.f("fk_registered_model_tag_name_registered_model"),
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("name", "key", name=op.f("pk_registered_model_tag")),
    )
    op.create_table(
        "model_version_tag",
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["name", "version"],
            ["model_version.name", "model_version.version"],
            name=op.f("fk_model_version_tag_name_model_version"),
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("name", "version", "key", name=op.f("pk_model_version_tag")),
    )


def downgrade() -> None:
    op.drop_table("model_version_tag")
    op.drop_table("registered_model_tag")
    op.drop_table("registered_model_alias")
    op.drop_table("model_version")
    op.drop_table("registered_model")
    op.drop_table("approval_request")
    op.drop_table("alias_event")
