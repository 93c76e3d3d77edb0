"""SDK methods of the use-case stage, in-process (embedded) and over REST (remote), one signature set.

>>> import tempfile
>>> from shipyard import Client
>>> with tempfile.TemporaryDirectory() as home, Client(home=home) as client:
...     portfolio = client.create_portfolio("Workshop")
...     case = client.create_use_case(portfolio.id, "Invoice matching", input_data=["ERP invoices"])
...     votes = client.vote(case.id, {"economic_value": 4, "strategic_alignment": 3}, voter="ana")
...     client.matrix(portfolio.id).points[0].value.mean
3.5
"""

from __future__ import annotations

from shipyard.usecases._sdk_base import UseCaseMethods
from shipyard.usecases._sdk_embedded import EmbeddedUseCaseMethods
from shipyard.usecases._sdk_remote import RemoteUseCaseMethods

__all__ = [
    "EmbeddedUseCaseMethods",
    "RemoteUseCaseMethods",
    "UseCaseMethods",
]
