from django.core.exceptions import BadRequest


class RejectNulBytesMiddleware:
    """400 for a request whose query string holds a NUL byte.

    PostgreSQL text cannot hold NUL, so such a value reaching a query (an admin list filter or
    search, a page's parameter) fails in the database driver: a 500. Nothing legitimate sends
    one. Posted forms are left to their Django form fields, which refuse NUL with a message
    (ProhibitNullCharactersValidator). Lone surrogates cannot arrive: Django decodes query
    strings and form bodies with replacement characters."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if any("\x00" in key or "\x00" in "".join(request.GET.getlist(key)) for key in request.GET):
            raise BadRequest("A NUL byte in the query string.")
        return self.get_response(request)
