"""customer identity check: status, reason code and time of the last check

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("identity_status", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("identity_issue", sa.String(length=40), nullable=True))
        batch_op.add_column(
            sa.Column("identity_checked_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("identity_checked_at")
        batch_op.drop_column("identity_issue")
        batch_op.drop_column("identity_status")
