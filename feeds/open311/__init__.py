"""Open311 GeoReport v2 server at ``/open311/v2/`` (docs/open311.md).

``formats`` renders the spec's JSON and XML bodies, ``selectors`` reads the public services and
requests, ``services`` takes a posted request through ``intake.services.create_appeal``, ``views``
are the thin endpoints. Clients are ``FeedSource`` rows of kind ``open311``; their key is the
``api_key`` the spec posts.
"""
