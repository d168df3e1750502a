from django.db import migrations

from intakeq_link.owner_indexes import owner_index

# The matcher's block of IntakeQ rows, read from the index alone (an index-only scan): the date,
# the names normalized by cm_normalize_name (identity 0001), and the columns the matcher shows.
# The rows of ~35 dates sit on ~130 heap pages and each name was normalized per lookup; their
# index entries sit on a few leaf pages, normalized once, when the row is written. Like the
# indexes of 0004 and 0005 it is asked of the table's owners in production
# (docs/identity-and-matching.md, "Indexes") and made here only with CM_MANAGE_INTAKEQ_INDEX.
CREATE_INDEX = (
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS patients_cm_intakeq_block_idx ON patients "
    "(date_of_birth, cm_normalize_name(first_name), cm_normalize_name(last_name)) "
    "INCLUDE (id, first_name, last_name, phone, email) "
    "WHERE cm_is_intakeq_client_id(intakeq_client_id);"
)
DROP_INDEX = "DROP INDEX CONCURRENTLY IF EXISTS patients_cm_intakeq_block_idx;"


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("identity", "0001_initial"),
        ("intakeq_link", "0007_history_append_only"),
    ]

    operations = [
        owner_index(CREATE_INDEX, DROP_INDEX),
    ]
