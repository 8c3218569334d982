"""organisations: consultations belong to an organisation, officials are its members

Revision ID: 0013_organisations
Revises: 0012
Create Date: 2026-12-05 21:00:00

Existing consultations are given one organisation per ministry they name (one called
"Organisation" for those that name none), and every existing official and moderator becomes a
member of each, so that an upgraded site works as before until an administrator sorts the
members out.

On SQLite, making the new column NOT NULL rebuilds the consultations table. Dropping the old
table would delete, through ON DELETE CASCADE, every row that refers to it (phases, versions,
contributions...): the migration refuses to run unless foreign keys are off, as the migration
environment sets them (`consult.migrate.sqlite_foreign_keys_off`).
"""

import re
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import consult.db
from consult.migrate import require_foreign_keys_off


revision: str = "0013_organisations"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_NAME = "Organisation"


def _slug(name: str, taken: set[str]) -> str:
    plain = unicodedata.normalize("NFKD", name.replace("’", " ")).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")[:70].strip("-") or "organisation"
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    taken.add(slug)
    return slug


def _rebuild_on_sqlite(table: str, change: object) -> None:
    """Run a batch change that rebuilds `table` (on SQLite, only with foreign keys off: the
    migration environment switches them off and checks them all at the end)."""
    require_foreign_keys_off(op.get_bind())
    change()  # type: ignore[operator]


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("created_at", consult.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
        sa.UniqueConstraint("name", name=op.f("uq_organisations_name")),
        sa.UniqueConstraint("slug", name=op.f("uq_organisations_slug")),
    )
    op.create_table(
        "organisation_members",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("added_at", consult.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_organisation_members_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_organisation_members_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "organisation_id", "user_id", name=op.f("pk_organisation_members")
        ),
    )
    op.create_index(
        op.f("ix_organisation_members_user_id"), "organisation_members", ["user_id"], unique=False
    )
    # Added without its constraint first (plain ALTER TABLE on every database), filled, then
    # made NOT NULL with its foreign key.
    op.add_column("consultations", sa.Column("organisation_id", sa.Integer(), nullable=True))
    _fill_organisations()

    def constrain() -> None:
        with op.batch_alter_table("consultations", schema=None) as batch_op:
            batch_op.alter_column("organisation_id", existing_type=sa.Integer(), nullable=False)
            batch_op.create_index(
                batch_op.f("ix_consultations_organisation_id"), ["organisation_id"], unique=False
            )
            batch_op.create_foreign_key(
                batch_op.f("fk_consultations_organisation_id_organisations"),
                "organisations",
                ["organisation_id"],
                ["id"],
                ondelete="RESTRICT",
            )

    _rebuild_on_sqlite("consultations", constrain)


def _fill_organisations() -> None:
    bind = op.get_bind()
    consultations = sa.table(
        "consultations",
        sa.column("id", sa.Integer),
        sa.column("ministry", sa.String),
        sa.column("organisation_id", sa.Integer),
    )
    organisations = sa.table(
        "organisations",
        sa.column("id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("slug", sa.String),
        sa.column("created_at", consult.db.UTCDateTime(timezone=True)),
    )
    members = sa.table(
        "organisation_members",
        sa.column("organisation_id", sa.Integer),
        sa.column("user_id", sa.Integer),
        sa.column("added_at", consult.db.UTCDateTime(timezone=True)),
    )
    users = sa.table("users", sa.column("id", sa.Integer), sa.column("role", sa.String))
    rows = bind.execute(sa.select(consultations.c.id, consultations.c.ministry)).fetchall()
    if not rows:
        return
    now = datetime.now(UTC)
    by_name: dict[str, list[int]] = {}
    for consultation_id, ministry in rows:
        name = " ".join((ministry or "").split())[:200] or DEFAULT_NAME
        by_name.setdefault(name, []).append(consultation_id)
    staff = [
        user_id
        for (user_id,) in bind.execute(
            sa.select(users.c.id).where(
                sa.cast(users.c.role, sa.String).in_(["official", "moderator"])
            )
        )
    ]
    taken: set[str] = set()
    for name, consultation_ids in sorted(by_name.items()):
        organisation_id = bind.execute(
            sa.insert(organisations)
            .values(name=name, slug=_slug(name, taken), created_at=now)
            .returning(organisations.c.id)
        ).scalar_one()
        bind.execute(
            sa.update(consultations)
            .where(consultations.c.id.in_(consultation_ids))
            .values(organisation_id=organisation_id)
        )
        if staff:
            bind.execute(
                sa.insert(members),
                [
                    {"organisation_id": organisation_id, "user_id": user_id, "added_at": now}
                    for user_id in staff
                ],
            )


def downgrade() -> None:
    def unconstrain() -> None:
        with op.batch_alter_table("consultations", schema=None) as batch_op:
            batch_op.drop_constraint(
                batch_op.f("fk_consultations_organisation_id_organisations"), type_="foreignkey"
            )
            batch_op.drop_index(batch_op.f("ix_consultations_organisation_id"))
            batch_op.drop_column("organisation_id")

    _rebuild_on_sqlite("consultations", unconstrain)
    op.drop_index(op.f("ix_organisation_members_user_id"), table_name="organisation_members")
    op.drop_table("organisation_members")
    op.drop_table("organisations")
