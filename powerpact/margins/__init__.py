"""Margins: what the markup earned on each partner's products (``figures.py``), and the
retail admins' page of them (``views.py``)."""
