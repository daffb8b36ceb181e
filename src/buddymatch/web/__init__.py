"""The coordinator workbench: a browser app and a JSON API over the public library.

``buddymatch serve`` (:mod:`.serve`) starts it; :func:`.app.create_app` builds
the ASGI app from :class:`.settings.Settings`.  The workbench computes no
match, score or rule itself: reading, validating, matching, re-matching,
checking, explaining, writing, rendering and sending introductions are the
library's (``buddymatch.validate``, ``load_problem``/``solve``, ``rematch``,
``explain_result``, ``introduce``, ``send_letters``, ``config``,
``io.readers``, ``io.writers``, ``report``, ``letters``, ``mailer``); it
stores files, schemes, runs, mailings and an audit log (SQLAlchemy +
Alembic), and shows them.  Needs the ``web`` extra.

Modules: :mod:`.service` (every operation up to publishing, once, with roles
and audit), :mod:`.lifecycle` (new intake, re-match proposals accepted or
rejected, feedback), :mod:`.introductions` (preview, downloads, sending);
:mod:`.pages` / :mod:`.lifecycle_pages` (HTML) and :mod:`.api` /
:mod:`.lifecycle_api` (JSON) are thin faces over them; :mod:`.worker` runs
each run in its own process (:mod:`.child`).
"""
