class ReadOnlyAdminMixin:
    """Audit rows: readable by admins, never added, changed or deleted through the site."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        return {}
