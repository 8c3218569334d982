"""questionnaires: a consultation's kind, the questions of a questionnaire and the responses

Revision ID: 0018_questionnaires
Revises: 0017_moderation
Create Date: 2026-12-06 00:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import consult.db

revision: str = "0018_questionnaires"
down_revision: str | None = "0017_moderation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN: every existing consultation is on a bill.
    op.add_column(
        "consultations",
        sa.Column(
            "kind",
            sa.Enum(
                "bill", "questionnaire", name="consultation_kind", native_enum=False, length=16
            ),
            server_default="bill",
            nullable=False,
        ),
    )
    if op.get_bind().dialect.name == "postgresql":
        # The answer to an open question is a contribution of its own kind.
        op.execute("ALTER TYPE contribution_kind ADD VALUE IF NOT EXISTS 'response'")
    op.create_table(
        "questionnaire_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("section", sa.String(length=300), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "open",
                "single",
                "multiple",
                "scale",
                name="question_kind",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("help", sa.Text(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("scale_min", sa.Integer(), nullable=True),
        sa.Column("scale_max", sa.Integer(), nullable=True),
        sa.Column("min_label", sa.String(length=200), nullable=False),
        sa.Column("max_label", sa.String(length=200), nullable=False),
        sa.Column("max_length", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["consultation_id"], ["consultations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("consultation_id", "key"),
    )
    op.create_index(
        "ix_questionnaire_questions_consultation_id",
        "questionnaire_questions",
        ["consultation_id"],
    )
    op.create_table(
        "questionnaire_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("respondent_id", sa.Integer(), nullable=True),
        sa.Column("external_ref", sa.String(length=120), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", consult.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", consult.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["consultation_id"], ["consultations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["respondent_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("consultation_id", "respondent_id", name="uq_responses_respondent"),
        sa.UniqueConstraint("consultation_id", "external_ref", name="uq_responses_external_ref"),
    )
    op.create_index(
        "ix_questionnaire_responses_consultation_id",
        "questionnaire_responses",
        ["consultation_id"],
    )
    op.create_index(
        "ix_questionnaire_responses_respondent_id", "questionnaire_responses", ["respondent_id"]
    )
    op.create_table(
        "questionnaire_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("value", sa.Integer(), nullable=True),
        sa.Column("contribution_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["response_id"], ["questionnaire_responses.id"], ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["question_id"], ["questionnaire_questions.id"], ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["contribution_id"], ["contributions.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("response_id", "question_id"),
    )
    op.create_index("ix_questionnaire_answers_question", "questionnaire_answers", ["question_id"])
    op.create_index(
        "ix_questionnaire_answers_contribution_id", "questionnaire_answers", ["contribution_id"]
    )


def downgrade() -> None:
    op.drop_table("questionnaire_answers")
    op.drop_table("questionnaire_responses")
    op.drop_table("questionnaire_questions")
    # The answers to open questions go with the questionnaires (PostgreSQL keeps the enum's
    # value, unused, as it cannot drop one). SQLite migrates with its foreign keys off, so
    # what points at them is removed or unset here as their ON DELETE says.
    bind = op.get_bind()
    responses = "SELECT id FROM contributions WHERE kind = 'response'"
    if bind.dialect.name == "sqlite":
        inspector = sa.inspect(bind)
        for table in inspector.get_table_names():
            for key in inspector.get_foreign_keys(table):
                if key["referred_table"] != "contributions" or len(key["constrained_columns"]) != 1:
                    continue
                column = key["constrained_columns"][0]
                if (key.get("options") or {}).get("ondelete", "").upper() == "SET NULL":
                    op.execute(
                        f"UPDATE {table} SET {column} = NULL WHERE {column} IN ({responses})"  # noqa: S608
                    )
                else:
                    remove = f"DELETE FROM {table} WHERE {column} IN ({responses})"  # noqa: S608
                    op.execute(remove)
    op.execute("DELETE FROM contributions WHERE kind = 'response'")
    op.drop_column("consultations", "kind")
