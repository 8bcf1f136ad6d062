"""The HTTP API: an app factory (``kenning.api.app.create_app``) and thin routers that
parse, call a service and shape the answer."""
