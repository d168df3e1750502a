"""Made the staff groups before the staff app existed; that is now staff's migration 0001.

Kept, empty, because databases have it recorded and later migrations depend on it.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("identity", "0002_permissions"),
        ("intakeq_link", "0002_permissions"),
        ("cm_program", "0002_permissions"),
        ("providers", "0001_initial"),
    ]

    operations = []
