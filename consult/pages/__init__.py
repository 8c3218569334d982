"""Pages: what each screen shows, gathered by one builder per page into a frozen object.

Route handlers parse the request, check it, then call one builder (or one service) and render
the object it returns; templates read nothing but that object and the layout's own values.
Builders read, never write: a page is the same whether it is shown once or twice.
"""
