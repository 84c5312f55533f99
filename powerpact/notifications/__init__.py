"""Notifications by email (issue #22): an outbox of messages made exactly once per
(event, recipient), sent by a Huey task over SMTP or, by default, into a local maildir.

- ``preferences.py``: who gets what (each shop's addresses and the kinds it turned off);
- ``outbox.py``: emitting an event (``INSERT ... ON CONFLICT DO NOTHING``);
- ``events.py`` and ``digest.py``: the events (an order failed for a reason its partner can
  fix, a closed month's statement, the retail admins' digest);
- ``messages.py``: a row of the outbox as an email (text and HTML, unsubscribe headers);
- ``unsubscribe.py``: the signed, expiring unsubscribe token;
- ``transport.py``: SMTP (``smtplib``) or the maildir under ``instance/mail``;
- ``delivery.py``: sending one row and recording the outcome; what the sweep re-enqueues.
"""
