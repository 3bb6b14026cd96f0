"""an index on roles (role, specialty): who works in a specialty is found without reading every family's role

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 23:10:00.000000
"""

from __future__ import annotations

from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_roles_role_specialty', 'roles', ['role', 'specialty'])


def downgrade() -> None:
    op.drop_index('ix_roles_role_specialty', table_name='roles')
