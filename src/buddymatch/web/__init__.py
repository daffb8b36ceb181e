"""The coordinator workbench: a browser app and a JSON API over the public library.

``buddymatch serve`` (:mod:`.serve`) starts it; :func:`.app.create_app` builds
the ASGI app from :class:`.settings.Settings`.  The workbench computes no
match, score or rule itself: reading, validating, matching, checking,
explaining and writing are the library's (``buddymatch.validate``,
``load_problem``/``solve``, ``explain_result``, ``config``, ``io.readers``,
``io.writers``, ``report``); it stores files, schemes, runs and an audit log
(SQLAlchemy + Alembic), and shows them.  Needs the ``web`` extra.
"""
