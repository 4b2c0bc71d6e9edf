"""The REST API's core (issue 19): who may call, what they may do, and the one shape of lists and errors.

It is the bottom layer like the rest of `housing_safety`: it imports no app. Each app contributes its endpoints in
`<app>/api.py` (serializers and views) and `<app>/api_urls.py` (routes), included from `urls.py` here by string.

Adding an endpoint (see households/api.py for the reads of the registry):

1. Register the resource its scopes name, once, in the app's api.py:
   `resources.register_resource("complaints", _("complaints"))` -> keys may hold "read:complaints"; a writes module
   registers it with `read=False, write=True` -> "write:complaints" (the admin offers and accepts only the scopes
   that open an endpoint).
2. Write the view on `views.ApiReadViewSet` (lists and one record) or `views.ApiView` (anything else) and declare
       api_resource = "complaints"                          # GET needs read:complaints, other methods write:...
       api_permission = "rectification.view_complaint"     # what the page needs: web.page(permission=...)
       api_write_permission = "rectification.add_complaint" # for POST/PUT/PATCH/DELETE; none declared: refused
   and read through the app's selector for `request.user` (a key's user is its system account): scope is the
   selector's, as on the pages. Writes call the app's services; a service's django ValidationError becomes a 400
   with its fields, PermissionDenied a 403, Http404 a 404 (exceptions.py), in the JSON shape
   {"errors": [{"field": "name" | null, "code": "machine_code", "message": "中文"}]}.
3. Lists are cursor-paginated (pagination.ApiCursorPagination: by pk, or by updated_at and pk with ?changed_since=),
   ?page_size= up to API_MAX_PAGE_SIZE; order the queryset by nothing else.
4. Personal numbers: serializer fields `personal.MaskedField(mask=...)`; a view that lets a caller read them whole
   (?unmask=1&reason=...) calls `personal.full_numbers(request, obj)`, which checks the role and writes the
   PersonalDataAccess row as the pages' unmask does.
5. Route it in `<app>/api_urls.py` with `views.resource_urls("complaints", ViewSet)` (<id:pk>, names "api:<name>-list"
   and "api:<name>-detail"), add the app's module to urls.API_APPS if it is new, classify the URLs in
   housing_safety/tests/test_idor.py, and regenerate docs/api/openapi.yaml (test_api_schema.py says how).

Every call is logged by `logging_middleware.ApiLogMiddleware` (one line: user, key, method, path, status, duration)
and throttled per key or per user (throttling.py, API_KEY_RATE / API_USER_RATE).
"""
