from django.shortcuts import render
from django.views.decorators.http import require_safe

from staff.access import access_required


@require_safe
@access_required()
def home(request):
    return render(request, "home.html")
