"""Health-insurance claims (giám định BHYT): catalogues, XML 130 intake, automatic assessment.

Public surface: ``catalogue.import_catalogue`` (facilities, drugs, services from CSV),
``intake.submit_claims`` (the ``claims.submit/v1`` partner service), ``assess.assess_claims``
(`nidb claims assess`) and ``routes.exchange_routes`` (the services mounted by nidb.api).
Module top levels beyond this one are heavy; the commands import them inside.
"""
