"""Pure domain types and rules: identifiers, names, dates, catalogues. No I/O."""
