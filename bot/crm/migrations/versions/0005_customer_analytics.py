"""customer analytics: holdings, contacts, job runs, cleaning trace, segments, strategies, insights, rules

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('job_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('trigger', sa.String(length=20), nullable=False),
    sa.Column('requested_by', sa.String(length=80), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('duration_s', sa.Float(), nullable=True),
    sa.Column('rows', sa.JSON(), nullable=True),
    sa.Column('figures', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('host', sa.String(length=255), nullable=True),
    sa.Column('pid', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.create_index('ix_job_runs_job_started', ['job', 'started_at'], unique=False)
        batch_op.create_index('uq_job_runs_one_running', ['job'], unique=True, sqlite_where=sa.text("status = 'running'"), postgresql_where=sa.text("status = 'running'"))

    op.create_table('contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('topic', sa.String(length=100), nullable=True),
    sa.Column('csat', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contacts_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_contacts_customer_id'), ['customer_id'], unique=False)

    op.create_table('customer_fixes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=40), nullable=False),
    sa.Column('old_value', sa.Text(), nullable=True),
    sa.Column('new_value', sa.Text(), nullable=True),
    sa.Column('rule', sa.String(length=40), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ),
    sa.ForeignKeyConstraint(['run_id'], ['job_runs.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('customer_fixes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_fixes_customer_id'), ['customer_id'], unique=False)

    op.create_table('customer_insights',
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('risk', sa.Float(), nullable=True),
    sa.Column('risk_drivers', sa.JSON(), nullable=True),
    sa.Column('risk_run_id', sa.Integer(), nullable=True),
    sa.Column('preferred_channel', sa.String(length=20), nullable=True),
    sa.Column('channel_confidence', sa.Float(), nullable=True),
    sa.Column('channel_run_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['channel_run_id'], ['job_runs.id'], ),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ),
    sa.ForeignKeyConstraint(['risk_run_id'], ['job_runs.id'], ),
    sa.PrimaryKeyConstraint('customer_id')
    )
    op.create_table('customer_merges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('kept_id', sa.Integer(), nullable=False),
    sa.Column('merged_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('matched_on', sa.JSON(), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('moved', sa.JSON(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['kept_id'], ['customers.id'], ),
    sa.ForeignKeyConstraint(['merged_id'], ['customers.id'], ),
    sa.ForeignKeyConstraint(['run_id'], ['job_runs.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('merged_id')
    )
    with op.batch_alter_table('customer_merges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_merges_kept_id'), ['kept_id'], unique=False)

    op.create_table('product_holdings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('product', sa.String(length=30), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('product_holdings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_product_holdings_customer_id'), ['customer_id'], unique=False)

    op.create_table('product_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('antecedents', sa.JSON(), nullable=False),
    sa.Column('consequents', sa.JSON(), nullable=False),
    sa.Column('support', sa.Float(), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('lift', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['job_runs.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('product_rules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_product_rules_run_id'), ['run_id'], unique=False)

    op.create_table('segments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('profile', sa.JSON(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('first_run_id', sa.Integer(), nullable=True),
    sa.Column('last_run_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['first_run_id'], ['job_runs.id'], ),
    sa.ForeignKeyConstraint(['last_run_id'], ['job_runs.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('segment_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('segment_id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('valid_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('valid_to', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ),
    sa.ForeignKeyConstraint(['run_id'], ['job_runs.id'], ),
    sa.ForeignKeyConstraint(['segment_id'], ['segments.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('segment_assignments', schema=None) as batch_op:
        batch_op.create_index('ix_segment_assignments_customer_valid', ['customer_id', 'valid_to'], unique=False)
        batch_op.create_index('ix_segment_assignments_segment_valid', ['segment_id', 'valid_to'], unique=False)

    op.create_table('strategies',
    sa.Column('segment_id', sa.Integer(), nullable=False),
    sa.Column('tone', sa.String(length=20), nullable=False),
    sa.Column('greeting', sa.Text(), nullable=False),
    sa.Column('offers', sa.JSON(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('handoff_threshold', sa.Float(), nullable=False),
    sa.Column('sla_minutes', sa.Integer(), nullable=False),
    sa.Column('generated_by_run_id', sa.Integer(), nullable=True),
    sa.Column('edited_by', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('handoff_threshold >= 0 AND handoff_threshold <= 1', name='ck_strategies_threshold'),
    sa.CheckConstraint('priority BETWEEN 1 AND 5', name='ck_strategies_priority'),
    sa.CheckConstraint('sla_minutes > 0', name='ck_strategies_sla'),
    sa.ForeignKeyConstraint(['edited_by'], ['staff_users.id'], ),
    sa.ForeignKeyConstraint(['generated_by_run_id'], ['job_runs.id'], ),
    sa.ForeignKeyConstraint(['segment_id'], ['segments.id'], ),
    sa.PrimaryKeyConstraint('segment_id')
    )
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('left_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_customers_merged_into_id'), ['merged_into_id'], unique=False)
        batch_op.create_foreign_key('fk_customers_merged_into_id', 'customers', ['merged_into_id'], ['id'])
        batch_op.drop_column('segment')

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_at', sa.DateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('due_at')

    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('segment', sa.VARCHAR(length=60), nullable=True))
        batch_op.drop_constraint('fk_customers_merged_into_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_customers_merged_into_id'))
        batch_op.drop_column('merged_into_id')
        batch_op.drop_column('left_at')

    op.drop_table('strategies')
    with op.batch_alter_table('segment_assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_segment_assignments_segment_valid')
        batch_op.drop_index('ix_segment_assignments_customer_valid')

    op.drop_table('segment_assignments')
    op.drop_table('segments')
    with op.batch_alter_table('product_rules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_product_rules_run_id'))

    op.drop_table('product_rules')
    with op.batch_alter_table('product_holdings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_product_holdings_customer_id'))

    op.drop_table('product_holdings')
    with op.batch_alter_table('customer_merges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_merges_kept_id'))

    op.drop_table('customer_merges')
    op.drop_table('customer_insights')
    with op.batch_alter_table('customer_fixes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_fixes_customer_id'))

    op.drop_table('customer_fixes')
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contacts_customer_id'))
        batch_op.drop_index(batch_op.f('ix_contacts_at'))

    op.drop_table('contacts')
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.drop_index('uq_job_runs_one_running', sqlite_where=sa.text("status = 'running'"), postgresql_where=sa.text("status = 'running'"))
        batch_op.drop_index('ix_job_runs_job_started')

    op.drop_table('job_runs')
