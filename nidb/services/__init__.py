"""Online public services, end to end: dossier, checks, decision, payment, notification."""
