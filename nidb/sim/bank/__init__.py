"""A bank's side of employers' payments: the statements (camt.053) it sends nidb."""
