"""supervision: metric rollups, topics, quality flags, nlu inbox

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('analytics_watermarks',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('topics',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('keywords', sa.JSON(), nullable=False),
    sa.Column('examples', sa.JSON(), nullable=False),
    sa.Column('digest', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['job_runs.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('topics', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_topics_run_id'), ['run_id'], unique=False)

    op.create_table('conversation_facts',
    sa.Column('conversation_id', sa.String(length=255), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=50), nullable=True),
    sa.Column('segment_id', sa.Integer(), nullable=True),
    sa.Column('intent', sa.String(length=100), nullable=True),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('customer_messages', sa.Integer(), nullable=False),
    sa.Column('fallback_messages', sa.Integer(), nullable=False),
    sa.Column('agent_messages', sa.Integer(), nullable=False),
    sa.Column('handed_off', sa.Boolean(), nullable=False),
    sa.Column('handoff_reason', sa.String(length=40), nullable=True),
    sa.Column('handoff_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('first_response_s', sa.Float(), nullable=True),
    sa.Column('first_response_bh_s', sa.Float(), nullable=True),
    sa.Column('reply_times_s', sa.JSON(), nullable=True),
    sa.Column('reply_times_bh_s', sa.JSON(), nullable=True),
    sa.Column('handle_s', sa.Float(), nullable=True),
    sa.Column('handle_bh_s', sa.Float(), nullable=True),
    sa.Column('queue_wait_s', sa.Float(), nullable=True),
    sa.Column('sla_met', sa.Boolean(), nullable=True),
    sa.Column('resolved', sa.Boolean(), nullable=True),
    sa.Column('reopened', sa.Boolean(), nullable=True),
    sa.Column('csat_agent', sa.Integer(), nullable=True),
    sa.Column('csat_bot', sa.Integer(), nullable=True),
    sa.Column('sentiment_mean', sa.Float(), nullable=True),
    sa.Column('sentiment_last', sa.Float(), nullable=True),
    sa.Column('next_started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ),
    sa.PrimaryKeyConstraint('conversation_id')
    )
    with op.batch_alter_table('conversation_facts', schema=None) as batch_op:
        batch_op.create_index('ix_conversation_facts_channel_day', ['channel', 'day'], unique=False)
        batch_op.create_index('ix_conversation_facts_customer_started', ['customer_id', 'started_at'], unique=False)
        batch_op.create_index('ix_conversation_facts_day', ['day'], unique=False)
        batch_op.create_index('ix_conversation_facts_intent_day', ['intent', 'day'], unique=False)
        batch_op.create_index('ix_conversation_facts_segment_day', ['segment_id', 'day'], unique=False)
        batch_op.create_index('ix_conversation_facts_computed_at', ['computed_at'], unique=False)
        batch_op.create_index('ix_conversation_facts_started', ['started_at', 'conversation_id'], unique=False)
        batch_op.create_index('ix_conversation_facts_handoff_at', ['handoff_at'], unique=False)
        batch_op.create_index('ix_conversation_facts_day_customer', ['day', 'customer_messages', 'segment_id', 'channel', 'intent', 'customer_id'], unique=False)
        batch_op.create_index('ix_conversation_facts_handed_day', ['handed_off', 'day', 'customer_messages', 'segment_id', 'channel', 'intent', 'handoff_reason', 'first_response_s', 'first_response_bh_s', 'handle_s', 'handle_bh_s', 'queue_wait_s'], unique=False)

    op.create_table('conversation_intent_facts',
    sa.Column('conversation_id', sa.String(length=255), nullable=False),
    sa.Column('intent', sa.String(length=100), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('channel', sa.String(length=50), nullable=True),
    sa.Column('segment_id', sa.Integer(), nullable=True),
    sa.Column('messages', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ),
    sa.PrimaryKeyConstraint('conversation_id', 'intent')
    )
    with op.batch_alter_table('conversation_intent_facts', schema=None) as batch_op:
        batch_op.create_index('ix_conversation_intent_facts_day', ['day'], unique=False)

    op.create_table('daily_facts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grain', sa.String(length=10), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('segment_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=50), nullable=True),
    sa.Column('intent', sa.String(length=100), nullable=True),
    sa.Column('conversations', sa.Integer(), nullable=False),
    sa.Column('customer_messages', sa.Integer(), nullable=False),
    sa.Column('fallback_messages', sa.Integer(), nullable=False),
    sa.Column('handed_off', sa.Integer(), nullable=False),
    sa.Column('durable', sa.Integer(), nullable=False),
    sa.Column('contained_ended_max', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sla_judged', sa.Integer(), nullable=False),
    sa.Column('sla_met', sa.Integer(), nullable=False),
    sa.Column('resolved', sa.Integer(), nullable=False),
    sa.Column('reopen_judged', sa.Integer(), nullable=False),
    sa.Column('reopened', sa.Integer(), nullable=False),
    sa.Column('agent_rated', sa.Integer(), nullable=False),
    sa.Column('agent_good', sa.Integer(), nullable=False),
    sa.Column('bot_rated', sa.Integer(), nullable=False),
    sa.Column('bot_good', sa.Integer(), nullable=False),
    sa.Column('sentiment_sum', sa.Float(), nullable=False),
    sa.Column('sentiment_n', sa.Integer(), nullable=False),
    sa.Column('sentiment_last_sum', sa.Float(), nullable=False),
    sa.Column('sentiment_last_n', sa.Integer(), nullable=False),
    sa.Column('first_response_values', sa.Text(), nullable=True),
    sa.Column('first_response_bh_values', sa.Text(), nullable=True),
    sa.Column('reply_time_values', sa.Text(), nullable=True),
    sa.Column('reply_time_bh_values', sa.Text(), nullable=True),
    sa.Column('handle_time_values', sa.Text(), nullable=True),
    sa.Column('handle_time_bh_values', sa.Text(), nullable=True),
    sa.Column('queue_wait_values', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('daily_facts', schema=None) as batch_op:
        batch_op.create_index('ix_daily_facts_grain_day', ['grain', 'day'], unique=False)

    op.create_table('daily_intent_facts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grain', sa.String(length=10), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('segment_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=50), nullable=True),
    sa.Column('conversation_intent', sa.String(length=100), nullable=True),
    sa.Column('intent', sa.String(length=100), nullable=False),
    sa.Column('messages', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('daily_intent_facts', schema=None) as batch_op:
        batch_op.create_index('ix_daily_intent_facts_grain_day', ['grain', 'day'], unique=False)

    for table, column in [
        ('messages', 'created_at'),
        ('tickets', 'created_at'),
        ('tickets', 'claimed_at'),
        ('tickets', 'resolved_at'),
        ('tickets', 'csat_at'),
        ('tickets', 'due_at'),
        ('bot_feedback', 'created_at'),
        ('segment_assignments', 'valid_from'),
    ]:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(f'ix_{table}_{column}', [column], unique=False)

    op.create_table('quality_flags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('severity', sa.Integer(), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('outcome', sa.String(length=30), nullable=True),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ),
    sa.ForeignKeyConstraint(['reviewer_id'], ['staff_users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('conversation_id', 'kind', name='uq_quality_flags_conversation_kind')
    )
    with op.batch_alter_table('quality_flags', schema=None) as batch_op:
        batch_op.create_index('ix_quality_flags_status_severity', ['status', 'severity'], unique=False)

    op.create_table('topic_weeks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('week', sa.String(length=10), nullable=False),
    sa.Column('segment_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=50), nullable=True),
    sa.Column('messages', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['topic_id'], ['topics.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('topic_weeks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_topic_weeks_topic_id'), ['topic_id'], unique=False)
        batch_op.create_index('ix_topic_weeks_week', ['week'], unique=False)

    op.create_table('nlu_inbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('predicted_intent', sa.String(length=100), nullable=True),
    sa.Column('confidence', sa.Float(), nullable=True),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('intent', sa.String(length=100), nullable=True),
    sa.Column('response', sa.Text(), nullable=True),
    sa.Column('labelled_by', sa.Integer(), nullable=True),
    sa.Column('labelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('trained_run_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['labelled_by'], ['staff_users.id'], ),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], ),
    sa.ForeignKeyConstraint(['trained_run_id'], ['job_runs.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('message_id')
    )
    with op.batch_alter_table('nlu_inbox', schema=None) as batch_op:
        batch_op.create_index('ix_nlu_inbox_status', ['status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('nlu_inbox', schema=None) as batch_op:
        batch_op.drop_index('ix_nlu_inbox_status')

    op.drop_table('nlu_inbox')
    with op.batch_alter_table('topic_weeks', schema=None) as batch_op:
        batch_op.drop_index('ix_topic_weeks_week')
        batch_op.drop_index(batch_op.f('ix_topic_weeks_topic_id'))

    op.drop_table('topic_weeks')
    with op.batch_alter_table('quality_flags', schema=None) as batch_op:
        batch_op.drop_index('ix_quality_flags_status_severity')

    op.drop_table('quality_flags')
    for table, column in [
        ('segment_assignments', 'valid_from'),
        ('bot_feedback', 'created_at'),
        ('tickets', 'due_at'),
        ('tickets', 'csat_at'),
        ('tickets', 'resolved_at'),
        ('tickets', 'claimed_at'),
        ('tickets', 'created_at'),
        ('messages', 'created_at'),
    ]:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f'ix_{table}_{column}')

    with op.batch_alter_table('daily_intent_facts', schema=None) as batch_op:
        batch_op.drop_index('ix_daily_intent_facts_grain_day')

    op.drop_table('daily_intent_facts')
    with op.batch_alter_table('daily_facts', schema=None) as batch_op:
        batch_op.drop_index('ix_daily_facts_grain_day')

    op.drop_table('daily_facts')
    with op.batch_alter_table('conversation_intent_facts', schema=None) as batch_op:
        batch_op.drop_index('ix_conversation_intent_facts_day')

    op.drop_table('conversation_intent_facts')
    with op.batch_alter_table('conversation_facts', schema=None) as batch_op:
        batch_op.drop_index('ix_conversation_facts_handed_day')
        batch_op.drop_index('ix_conversation_facts_day_customer')
        batch_op.drop_index('ix_conversation_facts_computed_at')
        batch_op.drop_index('ix_conversation_facts_handoff_at')
        batch_op.drop_index('ix_conversation_facts_started')
        batch_op.drop_index('ix_conversation_facts_segment_day')
        batch_op.drop_index('ix_conversation_facts_intent_day')
        batch_op.drop_index('ix_conversation_facts_day')
        batch_op.drop_index('ix_conversation_facts_customer_started')
        batch_op.drop_index('ix_conversation_facts_channel_day')

    op.drop_table('conversation_facts')
    with op.batch_alter_table('topics', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_topics_run_id'))

    op.drop_table('topics')
    op.drop_table('analytics_watermarks')
