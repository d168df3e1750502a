"""The ledger's write order: ``seq``, a number the database takes from a sequence for every
entry, whoever writes it (created_at is the transaction's time, the ids random: the entries one
reconciliation posts had no order). Adding the column numbers the existing entries in the
table's physical order, which for an append-only table is the order they were inserted."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cm_program", "0011_users_protected_by_history"),
        ("incentives", "0003_users_protected_by_history"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunSQL(
            sql="CREATE SEQUENCE cm_incentive_ledger_seq_seq AS bigint;",
            # Dropping the column drops the sequence it owns; this is for a failed forward run.
            reverse_sql="DROP SEQUENCE IF EXISTS cm_incentive_ledger_seq_seq;",
        ),
        migrations.AlterModelOptions(
            name="ledgerentry",
            options={
                "ordering": ["enrollment", "seq"],
                "permissions": [
                    ("view_incentive_report", "Can see incentive reports of every program")
                ],
                "verbose_name": "incentive ledger entry",
                "verbose_name_plural": "incentive ledger entries",
            },
        ),
        migrations.AddField(
            model_name="ledgerentry",
            name="seq",
            field=models.BigIntegerField(
                db_default=models.Func(
                    models.Value("cm_incentive_ledger_seq_seq"),
                    function="nextval",
                    output_field=models.BigIntegerField(),
                ),
                editable=False,
            ),
        ),
        migrations.RunSQL(
            sql="ALTER SEQUENCE cm_incentive_ledger_seq_seq OWNED BY cm_incentive_ledger.seq;",
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.AddIndex(
            model_name="ledgerentry",
            index=models.Index(fields=["enrollment", "seq"], name="cm_incentive_ledger_order_idx"),
        ),
        migrations.AddConstraint(
            model_name="ledgerentry",
            constraint=models.UniqueConstraint(fields=("seq",), name="cm_incentive_ledger_seq_key"),
        ),
    ]
