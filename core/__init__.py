"""Building blocks every app of ours may use, with no domain of their own.

``core`` is a library, not a Django app: it has no models with tables, no URLs, no settings and
imports none of our apps. The abstract base model, the SQL our migrations share, the audit
context for commands and the one "active user" test live here so that ``identity``, the lowest
domain app, can use them without importing another app.
"""
