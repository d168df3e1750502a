from django.shortcuts import render

from staff.access import access_required


@access_required()
def home(request):
    return render(request, "home.html")
